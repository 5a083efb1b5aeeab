// Reads what tandem-tray shows from the real sources: the SCM, the LLM's registry publication
// (checked by the same resolver as tandemctl and the trainer) and the trainer's status values.
#pragma once

#include "tray/tray_state.h"

namespace tandem::tray {

// Never throws for a source that is missing or unreadable: that source shows as absent and
// Snapshot::problem says why.
Snapshot read_snapshot();

}  // namespace tandem::tray
