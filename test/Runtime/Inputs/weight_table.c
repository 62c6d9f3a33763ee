/* A hand-written weight table run through the C API (test/Runtime/
 * weight_table.test): embedded sources, packs along axis 0 and 1 mixing
 * copies and transposes, 2-byte elements, sessions sharing the weights,
 * and the errors of a malformed table. The forward copies the packed
 * weights to its output. */
#include "sinter/Runtime/sinter_runtime.h"

#include <stdio.h>
#include <string.h>

static const float A[6] = {1, 2, 3, 4, 5, 6};       /* 2x3 */
static const float B[6] = {10, 20, 30, 40, 50, 60}; /* 3x2: B^T is 2x3 */
static const uint16_t H[6] = {1, 2, 3, 4, 5, 6};    /* f16 bits, 2x3 */
static const int64_t s23[] = {2, 3}, s32[] = {3, 2}, s26[] = {2, 6},
                     s43[] = {4, 3}, s24[] = {24}, s6[] = {6};

static void *slot_a, *slot_p1, *slot_p2, *slot_h;
static const SinterPackPiece p1[] = {{SINTER_PACK_COPY, 0, 0},
                                     {SINTER_PACK_TRANSPOSE, 1, 3}};
static const SinterPackPiece p2[] = {{SINTER_PACK_TRANSPOSE, 1, 2},
                                     {SINTER_PACK_COPY, 0, 0}};
static const SinterPackPiece ph[] = {{SINTER_PACK_TRANSPOSE, 3, 0}};
static SinterPackPiece bad[] = {{7, 0, 0}};
static SinterPack packs[] = {{1, 2, p1}, {0, 2, p2}, {0, 1, ph}};

/* name, dtype, rank, shape, bytes, data, file, offset, file_bytes, pack,
 * slot */
static SinterWeight weights[] = {
    {"A", 1, 2, s23, 24, A, 0, 0, 0, -1, &slot_a},
    {"B", 1, 2, s32, 24, B, 0, 0, 0, -1, 0},
    {"P1", 1, 2, s26, 48, 0, 0, 0, 0, 0, &slot_p1},
    {"H", 10, 2, s23, 12, H, 0, 0, 0, -1, 0},
    {"P2", 1, 2, s43, 48, 0, 0, 0, 0, 1, &slot_p2},
    {"HT", 10, 2, s32, 12, 0, 0, 0, 0, 2, &slot_h},
};

static int forward(void *const *b) {
  float *out = (float *)b[0];
  memcpy(out, slot_p1, 48);
  memcpy(out + 12, slot_p2, 48);
  uint16_t *h = (uint16_t *)b[1];
  memcpy(h, slot_h, 12);
  return 0;
}

static const SinterTensorInfo outputs[] = {{"y", 1, 1, s24},
                                           {"h", 10, 1, s6}};
static SinterModel model = {.abi_version = SINTER_MODEL_ABI_VERSION,
                            .name = "table",
                            .target = "cpu",
                            .num_outputs = 2,
                            .outputs = outputs,
                            .arena_bytes = 64,
                            .forward = forward,
                            .num_weights = 6,
                            .weights = weights,
                            .num_packs = 3,
                            .packs = packs};

int main(void) {
  SinterSession *s, *t;
  if (sinter_open_model(&model, &s) || sinter_open_model(&model, &t)) {
    printf("open: %s\n", sinter_last_error());
    return 1;
  }
  printf("direct weight: %s\n", slot_a == (void *)A ? "embedded" : "copied");
  float y[24];
  uint16_t h[6];
  if (sinter_run(t) || sinter_read_output(t, 0, y, sizeof(y)) ||
      sinter_read_output(t, 1, h, sizeof(h))) {
    printf("run: %s\n", sinter_last_error());
    return 1;
  }
  for (int i = 0; i < 24; ++i)
    printf("%g%s", y[i], i % 6 == 5 ? "\n" : " ");
  for (int i = 0; i < 6; ++i)
    printf("%d%s", h[i], i == 5 ? "\n" : " ");
  sinter_close(s);
  printf("after one close: %s\n", slot_p1 ? "loaded" : "released");
  sinter_close(t);
  printf("after both: %s\n", slot_p1 ? "loaded" : "released");

  /* A layout this runtime does not know; a size that contradicts the shape. */
  packs[0].pieces = bad;
  if (sinter_open_model(&model, &s) == SINTER_OK)
    return 1;
  printf("%s\n", sinter_last_error());
  packs[0].pieces = p1;
  weights[1].bytes = 20;
  if (sinter_open_model(&model, &s) == SINTER_OK)
    return 1;
  printf("%s\n", sinter_last_error());
  printf("slots after failures: %s\n", slot_a || slot_p1 ? "set" : "clear");
  return 0;
}
