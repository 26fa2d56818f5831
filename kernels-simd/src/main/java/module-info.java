/**
 * attn4j's Vector API backend ({@code simd}): every kernel family on {@code jdk.incubator.vector}.
 * Only {@link dev.attn4j.simd.SimdBackendProvider} is public; it is also the place to build a backend
 * on a caller-supplied executor.
 */
module dev.attn4j.simd {
    requires dev.attn4j.api;
    requires jdk.incubator.vector;
    // optional: HeapAlignment asks the VM's collector and object layout, and does without where absent
    requires static java.management;
    requires static jdk.management;

    exports dev.attn4j.simd;

    provides dev.attn4j.spi.BackendProvider with dev.attn4j.simd.SimdBackendProvider;
}
