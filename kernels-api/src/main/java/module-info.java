/**
 * attn4j's public API ({@code dev.attn4j.api}), the backend SPI ({@code dev.attn4j.spi}) and the float64
 * reference backend. No third-party dependency.
 */
module dev.attn4j.api {
    exports dev.attn4j.api;
    exports dev.attn4j.spi;
    exports dev.attn4j.reference;
    exports dev.attn4j.tune;

    uses dev.attn4j.spi.BackendProvider;

    provides dev.attn4j.spi.BackendProvider with dev.attn4j.reference.ReferenceBackendProvider;
}
