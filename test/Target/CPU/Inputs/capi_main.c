/* Drives a model compiled with --emit=shared through the C API: prints its
 * interface, runs it on inputs 0, 0.1, 0.2, ... and prints the outputs, then
 * checks a few errors. C99, linked against the library. */
#include "sinter/Runtime/sinter_runtime.h"

#include <stdio.h>
#include <stdlib.h>

static void print_info(const char *kind, const SinterTensorInfo *t) {
  int32_t k;
  printf("%s %s %s[", kind, t->name, sinter_dtype_name(t->dtype));
  for (k = 0; k < t->rank; ++k)
    printf("%s%lld", k ? "," : "", (long long)t->shape[k]);
  printf("] %llu bytes\n", (unsigned long long)sinter_tensor_bytes(t));
}

int main(void) {
  SinterSession *s = NULL;
  int32_t i;
  int64_t e;
  float *buf;
  if (sinter_open(&s) != SINTER_OK) {
    printf("open failed: %s\n", sinter_last_error());
    return 1;
  }
  printf("model %s target %s api %d\n", sinter_model_name(s),
         sinter_model_target(s), (int)sinter_api_version());
  for (i = 0; i < sinter_num_inputs(s); ++i)
    print_info("input", sinter_input_info(s, i));
  for (i = 0; i < sinter_num_outputs(s); ++i)
    print_info("output", sinter_output_info(s, i));

  if (sinter_run(s) != SINTER_OK)
    printf("error: %s\n", sinter_last_error());
  buf = (float *)malloc(1024);
  if (sinter_set_input(s, 0, buf, 4) != SINTER_OK)
    printf("error: %s\n", sinter_last_error());
  if (sinter_set_input(s, 7, buf, 4) != SINTER_OK)
    printf("error: %s\n", sinter_last_error());
  if (sinter_read_output(s, 0, buf, 24) != SINTER_OK)
    printf("error: %s\n", sinter_last_error());

  for (i = 0; i < sinter_num_inputs(s); ++i) {
    const SinterTensorInfo *t = sinter_input_info(s, i);
    int64_t n = (int64_t)(sinter_tensor_bytes(t) / sizeof(float));
    for (e = 0; e < n; ++e)
      buf[e] = (float)(e + 1) * (i ? 1.0f : 0.1f);
    if (sinter_set_input(s, i, buf, sinter_tensor_bytes(t)) != SINTER_OK)
      return 1;
  }
  if (sinter_run(s) != SINTER_OK) {
    printf("run failed: %s\n", sinter_last_error());
    return 1;
  }
  for (i = 0; i < sinter_num_outputs(s); ++i) {
    const SinterTensorInfo *t = sinter_output_info(s, i);
    int64_t n = (int64_t)(sinter_tensor_bytes(t) / sizeof(float));
    if (sinter_read_output(s, i, buf, sinter_tensor_bytes(t)) != SINTER_OK)
      return 1;
    printf("%s:", t->name);
    for (e = 0; e < n; ++e)
      printf(" %g", buf[e]);
    printf("\n");
  }
  printf("find z=%d y=%d nope=%d\n", (int)sinter_find_output(s, "z"),
         (int)sinter_find_input(s, "y"), (int)sinter_find_input(s, "nope"));
  free(buf);
  sinter_close(s);
  return 0;
}
