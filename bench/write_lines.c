/* Fast writer for bench/ingest.py: the rows of the ingest benchmark, as metric
 * lines or as CSV for COPY / .import. bench/ingest.py compiles it with cc and
 * falls back to a Python writer that prints the same text.
 *
 *   write_lines lines N PATH [RUN_ID_FILE]
 *       N lines "step=I progress=0.0 train_loss=... train_acc=... val_loss=... val_acc=..."
 *       to PATH; PATH "@metrics" means $SQLTRACK_METRICS. With RUN_ID_FILE, writes
 *       $SQLTRACK_RUN_ID there first.
 *   write_lines csv N PATH RUN_ID
 *       the same rows as CSV: run_id,step,progress,train_loss,train_acc,val_loss,val_acc
 *
 * Values are 0.dddddd with 6 digits, made from the step by integer arithmetic
 * (see value() and bench/ingest.py), so both formats carry the same text and
 * the check can compare sums exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long value(unsigned long step, unsigned long column) {
  return (step * 2654435761UL + column * 40503UL) % 1000000UL;
}

static char* put_uint(char* p, unsigned long v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = tmp[--n];
  return p;
}

static char* put_value(char* p, unsigned long v) {
  *p++ = '0';
  *p++ = '.';
  for (int i = 5; i >= 0; --i) {
    p[i] = (char)('0' + v % 10);
    v /= 10;
  }
  return p + 6;
}

int main(int argc, char** argv) {
  static const char* const names[4] = {" train_loss=", " train_acc=", " val_loss=", " val_acc="};
  if (argc < 4 || (strcmp(argv[1], "lines") && strcmp(argv[1], "csv")) ||
      (!strcmp(argv[1], "csv") && argc != 5)) {
    fprintf(stderr, "usage: write_lines lines N PATH [RUN_ID_FILE] | csv N PATH RUN_ID\n");
    return 2;
  }
  int csv = !strcmp(argv[1], "csv");
  unsigned long n = strtoul(argv[2], NULL, 10);
  const char* path = argv[3];
  if (!csv && !strcmp(path, "@metrics")) {
    path = getenv("SQLTRACK_METRICS");
    if (!path) {
      fprintf(stderr, "write_lines: SQLTRACK_METRICS is not set\n");
      return 1;
    }
  }
  if (!csv && argc > 4) {
    const char* run_id = getenv("SQLTRACK_RUN_ID");
    FILE* f = fopen(argv[4], "w");
    if (!f || fprintf(f, "%s\n", run_id ? run_id : "") < 0 || fclose(f)) {
      perror(argv[4]);
      return 1;
    }
  }
  FILE* out = fopen(path, "w");
  if (!out) {
    perror(path);
    return 1;
  }
  static char buf[1 << 16];
  setvbuf(out, buf, _IOFBF, sizeof buf);
  char line[256];
  for (unsigned long step = 0; step < n; ++step) {
    char* p = line;
    if (csv) {
      size_t len = strlen(argv[4]);
      memcpy(p, argv[4], len);
      p += len;
      *p++ = ',';
      p = put_uint(p, step);
      memcpy(p, ",0.0", 4);
      p += 4;
      for (unsigned long c = 0; c < 4; ++c) {
        *p++ = ',';
        p = put_value(p, value(step, c));
      }
    } else {
      memcpy(p, "step=", 5);
      p = put_uint(p + 5, step);
      memcpy(p, " progress=0.0", 13);
      p += 13;
      for (unsigned long c = 0; c < 4; ++c) {
        size_t len = strlen(names[c]);
        memcpy(p, names[c], len);
        p = put_value(p + len, value(step, c));
      }
    }
    *p++ = '\n';
    if (fwrite(line, 1, (size_t)(p - line), out) != (size_t)(p - line)) {
      perror(path);
      return 1;
    }
  }
  if (fclose(out)) {
    perror(path);
    return 1;
  }
  return 0;
}
