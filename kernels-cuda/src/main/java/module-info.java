/**
 * attn4j's CUDA backend: every kernel of the SPI on NVIDIA GPUs through JCuda's driver API, cuBLAS
 * (JCublas2) for the GEMMs and attn4j's own kernels, compiled ahead of time by the {@code native}
 * module into a fatbin that ships as a class-path resource. Public types: device tensors, pinned host
 * buffers, streams and the context that owns them ({@code dev.attn4j.cuda}).
 */
module dev.attn4j.cuda {
    requires dev.attn4j.api;
    requires jcuda;
    requires jcublas;

    exports dev.attn4j.cuda;

    provides dev.attn4j.spi.BackendProvider with dev.attn4j.cuda.CudaBackendProvider;
}
