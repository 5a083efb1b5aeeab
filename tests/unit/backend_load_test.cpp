// Issue #18: ggml's CPU backend as loadable modules, one per x86 variant. The variant loaded is
// the best one this processor runs, by the processor's own CPUID; modules are loaded from the
// executable's folder only, never from the current directory, PATH or GGML_BACKEND_PATH.
#include <gtest/gtest.h>

#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "common/files.h"
#include "common/llama/backend_modules.h"
#include "common/llama/llama_backend.h"
#include "common/paths.h"
#include "tests/support/temp_dir.h"
#ifdef _WIN32
#include "common/win32/child_process.h"
#else
#include "common/posix/process_launcher.h"
#endif

namespace tandem {
namespace {

namespace fs = std::filesystem;

// ggml/src/CMakeLists.txt's x86 variants (GGML_CPU_ALL_VARIANTS) and the features each needs.
struct Variant {
  std::string name;
  std::vector<std::string> needs;
};
const std::vector<Variant>& variants() {
  static const std::vector<std::string> haswell = {"SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2"};
  auto with = [](std::vector<std::string> base, std::vector<std::string> more) {
    base.insert(base.end(), more.begin(), more.end());
    return base;
  };
  static const std::vector<Variant> all = {
      {"x64", {}},
      {"sse42", {"SSE42"}},
      {"sandybridge", {"SSE42", "AVX"}},
      {"ivybridge", {"SSE42", "AVX", "F16C"}},
      {"piledriver", {"SSE42", "AVX", "F16C", "FMA"}},
      {"haswell", haswell},
      {"skylakex", with(haswell, {"AVX512"})},
      {"cannonlake", with(haswell, {"AVX512", "AVX512_VBMI"})},
      {"cascadelake", with(haswell, {"AVX512", "AVX512_VNNI"})},
      {"icelake", with(haswell, {"AVX512", "AVX512_VBMI", "AVX512_VNNI"})},
      {"cooperlake", with(haswell, {"AVX512", "AVX512_VNNI", "AVX512_BF16"})},
      {"zen4", with(haswell, {"AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16"})},
      {"alderlake", with(haswell, {"AVX_VNNI"})},
      {"sapphirerapids", with(haswell, {"AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16",
                                        "AMX_TILE", "AMX_INT8"})},
  };
  return all;
}

void cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
#if defined(_MSC_VER)
  int out[4];
  __cpuidex(out, static_cast<int>(leaf), static_cast<int>(sub));
  for (int i = 0; i < 4; ++i) r[i] = static_cast<unsigned>(out[i]);
#else
  r[0] = r[1] = r[2] = r[3] = 0;
  __get_cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
#endif
}

// What the processor itself reports, read here independently of ggml.
std::set<std::string> processor_features() {
  unsigned l1[4], l7[4], l71[4];
  cpuid(1, 0, l1);
  cpuid(7, 0, l7);
  cpuid(7, 1, l71);
  auto bit = [](unsigned reg, int n) { return ((reg >> n) & 1u) != 0; };
  std::set<std::string> f;
  if (bit(l1[2], 20)) f.insert("SSE42");
  if (bit(l1[2], 28)) f.insert("AVX");
  if (bit(l1[2], 29)) f.insert("F16C");
  if (bit(l1[2], 12)) f.insert("FMA");
  if (bit(l7[1], 5)) f.insert("AVX2");
  if (bit(l7[1], 8)) f.insert("BMI2");
  // ggml's AVX512 needs F, CD, VL, DQ and BW.
  if (bit(l7[1], 16) && bit(l7[1], 17) && bit(l7[1], 28) && bit(l7[1], 30) && bit(l7[1], 31)) {
    f.insert("AVX512");
  }
  if (bit(l7[2], 1)) f.insert("AVX512_VBMI");
  if (bit(l7[2], 11)) f.insert("AVX512_VNNI");
  if (bit(l7[3], 24)) f.insert("AMX_TILE");
  if (bit(l7[3], 25)) f.insert("AMX_INT8");
  if (bit(l71[0], 4)) f.insert("AVX_VNNI");
  if (bit(l71[0], 5)) f.insert("AVX512_BF16");
  return f;
}

fs::path module_file(const fs::path& folder, const std::string& variant) {
  return folder / (std::string(llama::platform::kModulePrefix) + "cpu-" + variant +
                   llama::platform::kModuleSuffix);
}

// The variants built beside this test that this processor runs, best (most features) first.
std::vector<const Variant*> runnable_variants() {
  const auto cpu = processor_features();
  std::vector<const Variant*> out;
  for (const auto& v : variants()) {
    if (!fs::exists(module_file(paths::executable_dir(), v.name))) continue;
    if (std::all_of(v.needs.begin(), v.needs.end(), [&](const auto& n) { return cpu.count(n); })) {
      out.push_back(&v);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](auto* a, auto* b) { return a->needs.size() > b->needs.size(); });
  return out;
}

TEST(BackendLoadTest, EveryX86VariantIsBuiltBesideTheExecutable) {
  for (const auto& v : variants()) {
    EXPECT_TRUE(fs::exists(module_file(paths::executable_dir(), v.name))) << v.name;
  }
}

TEST(BackendLoadTest, TheVariantLoadedIsTheBestThisProcessorRuns) {
  llama::ensure_llama_backend();
  const auto* report = llama::backend_report();
  ASSERT_NE(report, nullptr);
  const auto runnable = runnable_variants();
  ASSERT_FALSE(runnable.empty());
  std::string expected;
  for (const auto* v : runnable) {
    if (v->needs.size() == runnable.front()->needs.size()) expected += " " + v->name;
  }
  EXPECT_NE(expected.find(" " + report->cpu_variant), std::string::npos)
      << "loaded " << report->cpu_variant << "; this processor runs best:" << expected;
  // The features reported are the loaded module's: each one the variant needs (ggml does not
  // name SSE4.2 nor AMX_TILE among them).
  for (const auto& v : variants()) {
    if (v.name != report->cpu_variant) continue;
    for (const auto& need : v.needs) {
      if (need == "SSE42" || need == "AMX_TILE") continue;
      EXPECT_NE((" " + report->cpu_features + " ").find(" " + need + " "), std::string::npos)
          << need << " missing from " << report->cpu_features;
    }
  }
  EXPECT_EQ(report->folder, paths::executable_dir());
}

TEST(BackendLoadTest, TheCpuIsADeviceWithItsMemory) {
  llama::ensure_llama_backend();
  const auto devices = llama::compute_devices();
  ASSERT_FALSE(devices.empty());
  EXPECT_EQ(devices.front().name, "CPU");
  EXPECT_EQ(devices.front().type, "cpu");
  EXPECT_FALSE(devices.front().description.empty());
  EXPECT_GT(devices.front().memory_total, 0u);
  EXPECT_LE(devices.front().memory_free, devices.front().memory_total);
}

struct ProbeRun {
  int exit_code = -1;
  std::string out, err;
};

// Runs tandem-backend-probe copied into `folder`, from the test's folder (which holds every
// module) as its current directory and on PATH, LD_LIBRARY_PATH and GGML_BACKEND_PATH.
ProbeRun run_probe(const fs::path& folder) {
  const fs::path here = paths::executable_dir();
#ifdef _WIN32
  const std::string exe = "tandem-backend-probe.exe";
  // The DLLs the probe imports: Windows finds them in its folder first, as in the install folder.
  for (const char* dll : {"libllama.dll", "ggml.dll", "ggml-base.dll"}) {
    fs::copy_file(here / dll, folder / dll, fs::copy_options::overwrite_existing);
  }
  win32::JobObjectLauncher launcher;
  const char separator = ';';
#else
  const std::string exe = "tandem-backend-probe";
  posix::SpawnLauncher launcher;
  const char separator = ':';
#endif
  fs::copy_file(here / exe, folder / exe, fs::copy_options::overwrite_existing);
  ProcessSpec spec;
  spec.argv = {path_utf8(folder / exe)};
  spec.working_dir = path_utf8(here);
  const char* path = std::getenv("PATH");
  spec.env["PATH"] = path_utf8(here) + separator + (path ? path : "");
  spec.env["LD_LIBRARY_PATH"] = path_utf8(here);
  spec.env["GGML_BACKEND_PATH"] = path_utf8(module_file(here, "x64"));
  ProbeRun run;
  std::stop_source never;
  run.exit_code = launcher
                      .run(
                          spec,
                          [&run](Stream s, std::string_view line) {
                            (s == Stream::out ? run.out : run.err) += std::string(line) + "\n";
                          },
                          never.get_token())
                      .exit_code;
  return run;
}

TEST(BackendLoadTest, AModuleInTheCurrentDirectoryOrOnThePathIsNotLoaded) {
  testing::TempDir lonely;
  const ProbeRun run = run_probe(lonely.path());
  EXPECT_EQ(run.exit_code, 6) << run.out << run.err;
  EXPECT_NE(run.err.find("no CPU backend loaded from " + path_utf8(lonely.path())),
            std::string::npos)
      << run.err;
}

// The probe copied into `folder` with only the x64 module and the best one: it must still pick
// the best.
void expect_the_best_variant_loads_from(const fs::path& folder) {
  const auto runnable = runnable_variants();
  ASSERT_FALSE(runnable.empty());
  for (const std::string& name : {std::string("x64"), runnable.front()->name}) {
    fs::copy_file(module_file(paths::executable_dir(), name), module_file(folder, name),
                  fs::copy_options::overwrite_existing);
  }
  const ProbeRun run = run_probe(folder);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(("\n" + run.out).find("\nvariant " + runnable.front()->name + "\n"), std::string::npos)
      << run.out << run.err;
}

TEST(BackendLoadTest, TheSameProbeLoadsTheBestVariantFromItsOwnFolder) {
  testing::TempDir folder;
  expect_the_best_variant_loads_from(folder.path());
}

// An install folder named in any script (ggml's own loader takes a narrow path, which Windows
// reads in the ANSI code page: this folder failed with it).
TEST(BackendLoadTest, AFolderNamedOutsideTheAnsiCodePageLoadsToo) {
  testing::TempDir root;
  const fs::path folder = root.path() / fs::path(u8"Tandém モデル");
  fs::create_directories(folder);
  expect_the_best_variant_loads_from(folder);
}

}  // namespace
}  // namespace tandem
