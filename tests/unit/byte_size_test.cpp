#include "common/byte_size.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(ByteSizeText, SmallSizesKeepADecimalLargerOnesDoNotGigabytesDo) {
  EXPECT_EQ(byte_size_text(0), "0.0 MiB");
  EXPECT_EQ(byte_size_text(1 << 20), "1.0 MiB");
  EXPECT_EQ(byte_size_text(7'969'177), "7.6 MiB");
  EXPECT_EQ(byte_size_text(300ull << 20), "300 MiB");
  EXPECT_EQ(byte_size_text(1023ull << 20), "1023 MiB");
  EXPECT_EQ(byte_size_text(1ull << 30), "1.0 GiB");
  EXPECT_EQ(byte_size_text(3ull << 29), "1.5 GiB");
  EXPECT_EQ(byte_size_text(12ull << 30), "12.0 GiB");
}

}  // namespace
}  // namespace tandem
