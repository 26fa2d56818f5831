package dev.attn4j.bench.quick;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The end-to-end cases of {@code ./attn4j bench}: all-MiniLM-L6-v2 through LangChain4j's
 * {@code EmbeddingModel.embedAll}, attn4j's model against LangChain4j's own (ONNX Runtime), on the same
 * texts. They need the {@code attn4j-langchain4j} jars, which benchmarks.jar leaves out (the model jar
 * alone is ~90 MB): the {@code ./attn4j} launcher appends them from {@code jmh/target/bench-classpath.txt}.
 * This class touches none of their types; {@link MiniLmBench} does, and is loaded only when they are there.
 */
final class EndToEnd {
    /** The kernel column of the MiniLM rows. */
    static final String KERNEL = "all-MiniLM-L6-v2 embed";
    /** Texts per {@code embedAll} call: LangChain4j's default batch and attn4j's model's padded batch. */
    static final int BATCH = 32;
    static final String MODEL_CLASS = "dev.attn4j.langchain4j.Attn4jMiniLmEmbeddingModel";
    static final String PEER_CLASS = "dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel";
    /** all-MiniLM-L6-v2: 6 layers, hidden size 384, feed-forward size 1536 (for the flop and byte counts). */
    private static final int LAYERS = 6;
    private static final int HIDDEN = 384;
    private static final int FFN = 1536;

    private EndToEnd() {
    }

    /**
     * Tokens per text (with [CLS] and [SEP]) of the measured shapes: 16, 64 and 128, the most LangChain4j's
     * tokenizer file keeps; {@code quick} keeps 16.
     */
    static List<Integer> tokens(boolean quick) {
        return quick ? List.of(16) : List.of(16, 64, 128);
    }

    /** The shape column of a MiniLM row. */
    static String shape(int tokens) {
        return String.format(Locale.ROOT, "%d texts × %d tokens", BATCH, tokens);
    }

    /** The token counts whose row matches {@code only} (null: all), as {@link QuickBench#matches} does. */
    static List<Integer> selected(boolean quick, String only) {
        List<Integer> out = new ArrayList<>();
        for (int t : tokens(quick)) {
            if (QuickBench.matches(KERNEL + " " + shape(t), only)) {
                out.add(t);
            }
        }
        return out;
    }

    /** Why the MiniLM cases cannot run in this JVM, or null when they can. */
    static String unavailable() {
        ClassLoader loader = EndToEnd.class.getClassLoader();
        for (String name : List.of(MODEL_CLASS, PEER_CLASS)) {
            try {
                Class.forName(name, false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                return name.substring(name.lastIndexOf('.') + 1) + " is not on the class path (./attn4j adds "
                        + "jmh/target/bench-classpath.txt after benchmarks.jar)";
            }
        }
        return null;
    }

    /** Floating-point operations of one call: the layers' projections and attention (nominal, 4·S²·E per text). */
    static double flops(int tokens) {
        double perText = LAYERS * (2.0 * tokens * (4.0 * HIDDEN * HIDDEN + 2.0 * HIDDEN * FFN) + 4.0 * tokens * tokens * HIDDEN);
        return BATCH * perText;
    }

    /** Bytes one call must move at least: the layers' weights once, the gathered embeddings and the embeddings out. */
    static double bytes(int tokens) {
        double weights = LAYERS * (4.0 * HIDDEN * HIDDEN + 2.0 * HIDDEN * FFN + 9.0 * HIDDEN + FFN);
        return 4.0 * (weights + (double) BATCH * tokens * HIDDEN + (double) BATCH * HIDDEN);
    }
}
