// A claimed job's id: the name it was submitted under plus a hash of its content, so two
// versions of one file never share a work folder.
#pragma once

#include <string>
#include <string_view>

namespace tandem::spool {

// "<stem>-<8 hex digits of a hash of the content>": stable for the same file, different when
// the content differs, readable in logs and folder names.
std::string make_job_id(std::string_view stem, std::string_view content);
// The stem an id was made from: the hash and a spool's "-<n>" suffix taken off.
std::string job_stem(std::string_view id);

}  // namespace tandem::spool
