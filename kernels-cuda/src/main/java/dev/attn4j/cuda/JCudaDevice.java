package dev.attn4j.cuda;

import java.lang.foreign.MemorySegment;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;

/** {@link Device} on a GPU: the JCuda driver API on the context's default stream, JCublas2 with its one handle. */
final class JCudaDevice implements Device {
    // cudaDataType_t (unchanged from CUDA 12 to 13): the kernels' storage codes 0, 1, 2 map to these
    private static final int[] CUDA_TYPES = {0 /* CUDA_R_32F */, 2 /* CUDA_R_16F */, 14 /* CUDA_R_16BF */};
    private static final int CUBLAS_COMPUTE_32F = 68;
    private static final int CUBLAS_GEMM_DEFAULT = -1;
    private static final int CUBLAS_GEMM_DEFAULT_TENSOR_OP = 99;
    private static final int CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2;
    private static final int CU_MEMORYTYPE_DEVICE = 2;
    private static final int CU_MEMORYTYPE_UNIFIED = 4;
    private static final CUdeviceptr ZERO = new CUdeviceptr();

    private final CudaContext ctx;

    JCudaDevice(CudaContext ctx) {
        this.ctx = ctx;
    }

    /** A {@link CUdeviceptr} to a raw device address (JCuda adds the byte offset to the null pointer). */
    static CUdeviceptr ptr(long address) {
        return ZERO.withByteOffset(address);
    }

    @Override
    public long malloc(long bytes, String what) {
        Address ptr = new Address();
        CudaException.check(JCudaDriver.cuMemAlloc(ptr, bytes), "cuMemAlloc(" + bytes + " bytes for " + what + ")");
        return ptr.address();
    }

    @Override
    public void free(long address) {
        CudaException.check(JCudaDriver.cuMemFree(ptr(address)), "cuMemFree");
    }

    @Override
    public void upload(long dst, MemorySegment host, long byteOffset, long bytes) {
        CudaException.check(JCudaDriver.cuMemcpyHtoD(ptr(dst), hostPointer(host, byteOffset, bytes), bytes),
                "cuMemcpyHtoD(" + bytes + " bytes)");
    }

    @Override
    public void download(long src, MemorySegment host, long byteOffset, long bytes) {
        CudaException.check(JCudaDriver.cuMemcpyDtoH(hostPointer(host, byteOffset, bytes), ptr(src), bytes),
                "cuMemcpyDtoH(" + bytes + " bytes)");
    }

    @Override
    public void memsetD32(long dst, int value, long count) {
        CudaException.check(JCudaDriver.cuMemsetD32Async(ptr(dst), value, count, ctx.defaultStream().handle()),
                "cuMemsetD32Async(" + count + " words)");
    }

    @Override
    public boolean isDevice(MemorySegment seg) {
        if (!seg.isNative() || seg.address() == 0) {
            return false;
        }
        int[] type = new int[1];
        int rc = JCudaDriver.cuPointerGetAttribute(Pointer.to(type), CU_POINTER_ATTRIBUTE_MEMORY_TYPE, ptr(seg.address()));
        return rc == 0 && (type[0] == CU_MEMORYTYPE_DEVICE || type[0] == CU_MEMORYTYPE_UNIFIED);
    }

    @Override
    public void launch(KernelTable.Entry kernel, int gridX, int gridY, int gridZ, int block, KernelArgs args) {
        Pointer[] params = new Pointer[args.count()];
        for (int i = 0; i < params.length; i++) {
            long bits = args.bits(i);
            params[i] = switch (args.kind(i)) {
                case 'i' -> Pointer.to(new int[] {(int) bits});
                case 'f' -> Pointer.to(new float[] {Float.intBitsToFloat((int) bits)});
                default -> Pointer.to(new long[] {bits});
            };
        }
        int rc = JCudaDriver.cuLaunchKernel(ctx.function(kernel.name()), gridX, gridY, gridZ, block, 1, 1, 0,
                ctx.defaultStream().handle(), Pointer.to(params), null);
        if (rc != 0) {
            throw new CudaException("cuLaunchKernel(" + kernel.name() + ", grid=" + gridX + "x" + gridY + "x" + gridZ
                    + ", block=" + block + ") failed: " + CudaException.errorName(rc));
        }
    }

    @Override
    public void gemm(GemmCall c) {
        var handle = ctx.defaultStream().cublas();
        Pointer alpha = Pointer.to(new float[] {c.alpha()});
        Pointer beta = Pointer.to(new float[] {c.beta()});
        int status;
        if (c.allFloat32()) {
            status = JCublas2.cublasSgemmStridedBatched(handle, c.transa(), c.transb(), c.m(), c.n(), c.k(), alpha,
                    ptr(c.a()), c.lda(), c.strideA(), ptr(c.b()), c.ldb(), c.strideB(), beta, ptr(c.c()), c.ldc(),
                    c.strideC(), c.batch());
        } else {
            status = JCublas2.cublasGemmStridedBatchedEx_new(handle, c.transa(), c.transb(), c.m(), c.n(), c.k(), alpha,
                    ptr(c.a()), CUDA_TYPES[c.aType()], c.lda(), c.strideA(), ptr(c.b()), CUDA_TYPES[c.bType()], c.ldb(),
                    c.strideB(), beta, ptr(c.c()), CUDA_TYPES[c.cType()], c.ldc(), c.strideC(), c.batch(),
                    CUBLAS_COMPUTE_32F, c.tensorOp() ? CUBLAS_GEMM_DEFAULT_TENSOR_OP : CUBLAS_GEMM_DEFAULT);
        }
        CudaException.checkCublas(status, c.describe());
    }

    @Override
    public CudaLaunchConfig.Limits limits() {
        return ctx.limits();
    }

    @Override
    public void synchronize() {
        CudaException.check(JCudaDriver.cuStreamSynchronize(ctx.defaultStream().handle()), "cuStreamSynchronize");
    }

    /** A JCuda pointer to host memory: a heap array with a byte offset, or a native segment's buffer. */
    static Pointer hostPointer(MemorySegment seg, long byteOffset, long bytes) {
        if (seg.isNative()) {
            return Pointer.to(seg.asSlice(byteOffset, bytes).asByteBuffer());
        }
        long at = seg.address() + byteOffset;
        Object base = seg.heapBase().orElseThrow();
        Pointer p = switch (base) {
            case float[] a -> Pointer.to(a);
            case byte[] a -> Pointer.to(a);
            case short[] a -> Pointer.to(a);
            case char[] a -> Pointer.to(a);
            case int[] a -> Pointer.to(a);
            case long[] a -> Pointer.to(a);
            case double[] a -> Pointer.to(a);
            default -> throw new IllegalArgumentException("unsupported heap segment over " + base.getClass());
        };
        return p.withByteOffset(at);
    }

    /** A device pointer JCuda fills, whose address this package can read. */
    static final class Address extends CUdeviceptr {
        long address() {
            return getNativePointer() + getByteOffset();
        }
    }
}
