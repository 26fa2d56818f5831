/*
 * A stand-in for libcublas.so.13 (SONAME libcublas.so.13) with two functions, for testing the shim's
 * forwarding on machines without CUDA: cublasSgemm_v2 has 14 arguments, so that 8 of them travel on the
 * stack, and encodes all of them in its result and output; every other symbol is absent, so that the shim
 * must answer CUBLAS_STATUS_NOT_SUPPORTED for it.
 */
int cublasSgemm_v2(void *handle, int transa, int transb, int m, int n, int k, const float *alpha, const float *a,
                   int lda, const float *b, int ldb, const float *beta, float *c, int ldc) {
    (void) handle;
    c[0] = *alpha * a[0] * b[0] + *beta;
    return transa + 2 * transb + 4 * m + 8 * n + 16 * k + 32 * lda + 64 * ldb + 128 * ldc;
}

int cublasGetVersion_v2(void *handle, int *version) {
    *version = handle == 0 ? 130000 : -1;
    return 0;
}
