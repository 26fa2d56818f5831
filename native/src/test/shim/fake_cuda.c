/*
 * A stand-in for libcuda.so.1 (built as libattn4j_fake_cuda.so) for kernels-cuda's probe tests: the five driver calls the probe makes, answering
 * what fake_cuda_configure last set (cuInit's result, the driver version, the device count, the compute
 * capability), so that every reason the probe gives is tested on machines without a GPU.
 */
static int init_rc = 0;
static int version = 13000;
static int count = 1;
static int capability = 90;

void fake_cuda_configure(int rc, int driver_version, int devices, int cc) {
    init_rc = rc;
    version = driver_version;
    count = devices;
    capability = cc;
}

int cuInit(unsigned int flags) {
    (void) flags;
    return init_rc;
}

int cuDriverGetVersion(int *v) {
    *v = version;
    return 0;
}

int cuDeviceGetCount(int *n) {
    *n = count;
    return 0;
}

int cuDeviceGetAttribute(int *value, int attribute, int device) {
    (void) device;
    if (attribute == 75) {
        *value = capability / 10;
        return 0;
    }
    if (attribute == 76) {
        *value = capability % 10;
        return 0;
    }
    return 1; /* CUDA_ERROR_INVALID_VALUE */
}
