// A job that writes metric lines the way a C++ training program would, for the
// integration tests: metric_lines fifo|fd|file[=PATH] COUNT [FIRST_STEP].
// Line i: step=i progress=0.0 a=i b=i/2 (as a float) tag="s<i>".
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: metric_lines fifo|fd|file=PATH COUNT [FIRST_STEP]\n");
    return 2;
  }
  std::string mode = argv[1];
  long count = std::atol(argv[2]);
  long first = argc > 3 ? std::atol(argv[3]) : 0;
  std::FILE* out = nullptr;
  if (mode == "fifo") {
    const char* path = std::getenv("SQLTRACK_METRICS");
    out = path ? std::fopen(path, "w") : nullptr;
  } else if (mode == "fd") {
    const char* fd = std::getenv("SQLTRACK_METRICS_FD");
    out = fd ? fdopen(std::atoi(fd), "w") : nullptr;
  } else if (mode.rfind("file=", 0) == 0) {
    out = std::fopen(mode.substr(5).c_str(), "a");
  }
  if (!out) {
    std::perror("metric_lines: cannot open the metrics destination");
    return 1;
  }
  for (long i = first; i < first + count; ++i) {
    std::fprintf(out, "step=%ld progress=0.0 a=%ld b=%.1f tag=\"s%ld\"\n", i, i, i / 2.0, i);
  }
  return std::fclose(out) == 0 ? 0 : 1;
}
