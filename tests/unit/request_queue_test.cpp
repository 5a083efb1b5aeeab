// Admission in front of the slots, without a model: order, the wait queue's limit, stopping.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "inference/request_queue.h"

namespace tandem::inference {
namespace {

using namespace std::chrono_literals;
constexpr auto kBound = 60s;  // a hang fails the test instead of the suite

// A request told apart by its one prompt token.
std::unique_ptr<Request> request(Token id) {
  auto r = std::make_unique<Request>();
  r->prompt = {id};
  return r;
}

// What the worker takes up in one call, by id; at most `free_slots` of them.
std::vector<Token> take_up(RequestQueue& queue, int free_slots = 1000, bool running = false) {
  std::vector<Token> taken;
  queue.wait_for_work(running, [&](std::unique_ptr<Request>& r) {
    if (free_slots == 0) return false;
    --free_slots;
    taken.push_back(r->prompt.front());
    r.reset();
    return true;
  });
  return taken;
}

std::vector<Token> ids(const std::deque<std::unique_ptr<Request>>& requests) {
  std::vector<Token> out;
  for (const auto& r : requests) out.push_back(r->prompt.front());
  return out;
}

TEST(RequestQueue, AdmitsUpToTheSlotsThenQueuesUpToTheLimitThenRefuses) {
  RequestQueue queue(/*slots=*/2, /*limit=*/1);
  queue.submit(request(1));
  queue.submit(request(2));
  queue.submit(request(3));
  auto s = queue.stats();
  EXPECT_EQ(s.slots, 2);
  EXPECT_EQ(s.busy_slots, 2);
  EXPECT_EQ(s.queued, 1);
  try {
    queue.submit(request(4));
    FAIL() << "expected QueueFull";
  } catch (const QueueFull& e) {
    EXPECT_STREQ(e.what(), "all 2 slots are busy and 1 requests already wait (queue_limit 1)");
  }
  s = queue.stats();
  EXPECT_EQ(s.busy_slots, 2);
  EXPECT_EQ(s.queued, 1);
}

TEST(RequestQueue, TheWorkerTakesRequestsInArrivalOrderAndAFreedSlotGoesToTheFirstWaiting) {
  RequestQueue queue(2, 4);
  for (Token id = 1; id <= 5; ++id) queue.submit(request(id));
  EXPECT_EQ(take_up(queue), (std::vector<Token>{1, 2}));
  EXPECT_EQ(queue.stats().queued, 3);
  queue.release_slot();
  EXPECT_EQ(queue.stats().busy_slots, 2);  // taken by request 3 at once
  EXPECT_EQ(queue.stats().queued, 2);
  queue.release_slot();
  EXPECT_EQ(take_up(queue), (std::vector<Token>{3, 4}));
  queue.release_slot();  // request 5 takes it
  queue.release_slot();
  EXPECT_EQ(queue.stats().busy_slots, 1);
  EXPECT_EQ(take_up(queue), (std::vector<Token>{5}));
  queue.release_slot();
  EXPECT_EQ(queue.stats().busy_slots, 0);
}

TEST(RequestQueue, ARequestTheWorkerCannotPlaceStaysFirstForItsNextCall) {
  RequestQueue queue(3, 0);
  for (Token id = 1; id <= 3; ++id) queue.submit(request(id));
  EXPECT_EQ(take_up(queue, /*free_slots=*/1), (std::vector<Token>{1}));
  EXPECT_EQ(take_up(queue, 0, /*running=*/true), (std::vector<Token>{}));
  EXPECT_EQ(take_up(queue), (std::vector<Token>{2, 3}));
}

TEST(RequestQueue, TheWorkerWaitsForARequestUnlessItsSlotsHaveWork) {
  RequestQueue queue(1, 0);
  EXPECT_EQ(take_up(queue, 1000, /*running=*/true), (std::vector<Token>{}));  // returns at once
  auto worker = std::async(std::launch::async, [&] { return take_up(queue); });
  EXPECT_EQ(worker.wait_for(0s), std::future_status::timeout) << "returned with nothing to do";
  queue.submit(request(7));
  ASSERT_EQ(worker.wait_for(kBound), std::future_status::ready);
  EXPECT_EQ(worker.get(), (std::vector<Token>{7}));
}

TEST(RequestQueue, StopHandsBackEveryRequestNotInASlotAndRefusesNewOnes) {
  RequestQueue queue(2, 2);
  for (Token id = 1; id <= 4; ++id) queue.submit(request(id));
  EXPECT_EQ(take_up(queue, 1), (std::vector<Token>{1}));  // 2 admitted, 3 and 4 wait
  EXPECT_EQ(ids(queue.stop()), (std::vector<Token>{2, 3, 4}));
  auto s = queue.stats();
  EXPECT_EQ(s.busy_slots, 1);  // request 1, still in its slot
  EXPECT_EQ(s.queued, 0);
  EXPECT_THROW(queue.check_open(), Error);
  try {
    queue.submit(request(5));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "server is stopping");
  }
  EXPECT_FALSE(queue.wait_for_work(true, [](std::unique_ptr<Request>&) { return true; }));
  queue.release_slot();
  EXPECT_EQ(queue.stats().busy_slots, 0);
  EXPECT_TRUE(queue.stop().empty());
}

TEST(RequestQueue, StopWakesAWaitingWorker) {
  RequestQueue queue(1, 0);
  auto worker = std::async(std::launch::async, [&] {
    return queue.wait_for_work(false, [](std::unique_ptr<Request>&) { return true; });
  });
  queue.stop();
  ASSERT_EQ(worker.wait_for(kBound), std::future_status::ready);
  EXPECT_FALSE(worker.get());
}

TEST(RequestQueue, AnAdmissionHoldsItsPlaceUntilSubmittedOrDropped) {
  RequestQueue queue(/*slots=*/1, /*limit=*/1);
  auto first = queue.admit();
  {
    auto second = queue.admit();
    EXPECT_THROW(queue.admit(), QueueFull);  // both places are held, nothing is queued yet
    EXPECT_EQ(queue.stats().queued, 0);
  }  // dropped (its prompt could not be tokenized, say): its place is free again
  auto third = queue.admit();
  std::vector<std::unique_ptr<Request>> one;
  one.push_back(request(1));
  queue.submit(std::move(first), std::move(one));
  EXPECT_EQ(queue.stats().busy_slots, 1);
  EXPECT_THROW(queue.admit(), QueueFull);
  EXPECT_THROW(queue.admit(2), Error);  // more places than slots can never be admitted
}

TEST(RequestQueue, AGroupTakesItsSlotsTogetherAndNobodyOvertakesIt) {
  RequestQueue queue(/*slots=*/2, /*limit=*/4);
  queue.submit(request(1));
  std::vector<std::unique_ptr<Request>> group;
  group.push_back(request(2));
  group.push_back(request(3));
  queue.submit(queue.admit(2), std::move(group));  // one slot free: the pair waits
  queue.submit(request(4));                        // and a single waits behind it
  EXPECT_EQ(take_up(queue), (std::vector<Token>{1}));
  EXPECT_EQ(queue.stats().queued, 3);
  queue.release_slot();
  EXPECT_EQ(take_up(queue), (std::vector<Token>{2, 3}));
  EXPECT_EQ(queue.stats().busy_slots, 2);
  queue.release_slot();
  EXPECT_EQ(take_up(queue), (std::vector<Token>{4}));
}

TEST(RequestQueue, EmbeddingsWaitUnderTheSameLimitAndWakeTheWorker) {
  RequestQueue queue(/*slots=*/1, /*limit=*/1);
  auto worker = std::async(std::launch::async, [&] { return take_up(queue); });
  queue.submit_embedding(queue.admit(), std::make_unique<EmbedRequest>());
  ASSERT_EQ(worker.wait_for(kBound), std::future_status::ready);
  EXPECT_EQ(queue.stats().queued, 1);
  queue.submit(request(1));
  EXPECT_THROW(queue.admit(), QueueFull);
  EXPECT_NE(queue.take_embedding(), nullptr);
  EXPECT_EQ(queue.take_embedding(), nullptr);
  EXPECT_EQ(queue.stats().queued, 0);
  queue.submit_embedding(queue.admit(), std::make_unique<EmbedRequest>());
  queue.stop();
  EXPECT_EQ(queue.take_embedding(), nullptr);  // the worker takes nothing once stopping
  EXPECT_EQ(queue.drop_embeddings().size(), 1u);
}

TEST(RequestQueue, CountsDecodedTokens) {
  RequestQueue queue(1, 0);
  queue.count(5, 1);
  queue.count(0, 2);
  const auto s = queue.stats();
  EXPECT_EQ(s.prompt_tokens, 5u);
  EXPECT_EQ(s.generated_tokens, 3u);
}

}  // namespace
}  // namespace tandem::inference
