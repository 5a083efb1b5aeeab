// Build-time generator of tandem-tray's icons: one .ico per state colour, each holding 16, 20, 24
// and 32 px images (32-bit BGRA with an AND mask), drawn as an anti-aliased disc with a darker
// rim. Portable and dependency-free so it runs on the build host, and no binary is committed.
//   make-tray-icons <output folder>   writes tandem-{green,amber,red,grey}.ico
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct Rgb {
  std::uint8_t r, g, b;
};

// Keep in step with scripts/tray-screenshots, which looks for these colours on screen.
struct IconColour {
  const char* name;
  Rgb fill;
};
constexpr IconColour kColours[] = {
    {"green", {46, 173, 75}},
    {"amber", {240, 160, 32}},
    {"red", {217, 48, 37}},
    {"grey", {140, 140, 140}},
};
constexpr int kSizes[] = {16, 20, 24, 32};

void put16(std::vector<std::uint8_t>& out, unsigned value) {
  out.push_back(static_cast<std::uint8_t>(value & 0xFF));
  out.push_back(static_cast<std::uint8_t>((value >> 8) & 0xFF));
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  put16(out, value & 0xFFFF);
  put16(out, value >> 16);
}

std::uint8_t scale(std::uint8_t channel, double factor) {
  return static_cast<std::uint8_t>(std::lround(channel * factor));
}

// BITMAPINFOHEADER, bottom-up BGRA pixels, then the 1-bit AND mask (1 = transparent).
std::vector<std::uint8_t> draw(int size, Rgb fill) {
  const Rgb rim{scale(fill.r, 0.62), scale(fill.g, 0.62), scale(fill.b, 0.62)};
  const double centre = size / 2.0;
  const double radius = size * 0.46;
  const double rim_width = std::max(1.0, size / 16.0);
  constexpr int kSamples = 4;  // per axis, for the edge's coverage

  const unsigned mask_stride = ((static_cast<unsigned>(size) + 31) / 32) * 4;
  const unsigned pixel_bytes = static_cast<unsigned>(size * size * 4);
  const unsigned mask_bytes = mask_stride * static_cast<unsigned>(size);
  std::vector<std::uint8_t> out;
  put32(out, 40);
  put32(out, static_cast<std::uint32_t>(size));
  put32(out, static_cast<std::uint32_t>(size * 2));  // XOR and AND halves
  put16(out, 1);
  put16(out, 32);
  put32(out, 0);  // BI_RGB
  put32(out, pixel_bytes + mask_bytes);
  for (int i = 0; i < 4; ++i) put32(out, 0);

  std::vector<std::uint8_t> mask(mask_bytes, 0);
  for (int row = size - 1; row >= 0; --row) {  // bottom-up
    for (int x = 0; x < size; ++x) {
      int inside = 0, in_fill = 0;
      for (int sy = 0; sy < kSamples; ++sy) {
        for (int sx = 0; sx < kSamples; ++sx) {
          const double px = x + (sx + 0.5) / kSamples - centre;
          const double py = row + (sy + 0.5) / kSamples - centre;
          const double d = std::sqrt(px * px + py * py);
          if (d <= radius) ++inside;
          if (d <= radius - rim_width) ++in_fill;
        }
      }
      const double coverage = inside / double(kSamples * kSamples);
      const Rgb c = in_fill * 2 >= inside && inside > 0 ? fill : rim;
      out.push_back(c.b);
      out.push_back(c.g);
      out.push_back(c.r);
      out.push_back(static_cast<std::uint8_t>(std::lround(coverage * 255)));
      if (inside == 0) {
        const unsigned mask_row = static_cast<unsigned>(size - 1 - row);
        mask[mask_row * mask_stride + static_cast<unsigned>(x) / 8] |=
            static_cast<std::uint8_t>(0x80u >> (x % 8));
      }
    }
  }
  out.insert(out.end(), mask.begin(), mask.end());
  return out;
}

std::vector<std::uint8_t> icon_file(Rgb fill) {
  std::vector<std::vector<std::uint8_t>> images;
  for (int size : kSizes) images.push_back(draw(size, fill));
  std::vector<std::uint8_t> out;
  put16(out, 0);
  put16(out, 1);  // icon
  put16(out, static_cast<unsigned>(images.size()));
  std::uint32_t offset = static_cast<std::uint32_t>(6 + 16 * images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    out.push_back(static_cast<std::uint8_t>(kSizes[i]));
    out.push_back(static_cast<std::uint8_t>(kSizes[i]));
    out.push_back(0);  // no palette
    out.push_back(0);
    put16(out, 1);   // planes
    put16(out, 32);  // bits per pixel
    put32(out, static_cast<std::uint32_t>(images[i].size()));
    put32(out, offset);
    offset += static_cast<std::uint32_t>(images[i].size());
  }
  for (const auto& image : images) out.insert(out.end(), image.begin(), image.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make-tray-icons <output folder>\n");
    return 2;
  }
  for (const auto& colour : kColours) {
    const std::string path = std::string(argv[1]) + "/tandem-" + colour.name + ".ico";
    const auto bytes = icon_file(colour.fill);
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    if (!file.flush()) {
      std::fprintf(stderr, "make-tray-icons: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}
