#include "trainer/status.h"

#include "common/discovery/protocol.h"

namespace tandem::trainer {

std::string answer_status_request(const TrainerStatus& status, std::string_view message) {
  try {
    const discovery::Request request = discovery::parse_request(message);
    if (request.op != discovery::Op::status) {
      return discovery::encode_error(discovery::kBadRequest,
                                     "field 'op': the trainer's pipe answers only \"status\"");
    }
    nlohmann::json answer = {{"v", discovery::kProtocolVersion}, {"ok", true}};
    answer.update(trainer_status_json(status));
    return answer.dump();
  } catch (const discovery::ProtocolError& e) {
    return discovery::encode_error(e.code(), e.what());
  }
}

}  // namespace tandem::trainer
