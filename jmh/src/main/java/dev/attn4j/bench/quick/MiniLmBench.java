package dev.attn4j.bench.quick;

import dev.attn4j.api.Attn4j;
import dev.attn4j.langchain4j.Attn4jMiniLmEmbeddingModel;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.output.Response;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * all-MiniLM-L6-v2 end to end ({@link EndToEnd}): one {@code embedAll} call of {@link EndToEnd#BATCH} different
 * texts of exactly {@code tokens} tokens each, through attn4j's {@code Attn4jMiniLmEmbeddingModel} on each
 * backend and through LangChain4j's {@code AllMiniLmL6V2EmbeddingModel} (ONNX Runtime, LangChain4j's defaults:
 * one session run per text on a pool of one thread per core). Loaded only when {@link EndToEnd#unavailable()}
 * is null.
 */
final class MiniLmBench {
    /** Single-word-piece words (lower-case English), cycled to build texts of an exact token count. */
    private static final String[] WORDS = ("the model reads every word of this text and maps it to a vector that keeps "
            + "its meaning so that similar sentences end up close together in space while different ones stay far "
            + "apart from each other when we compare them").split(" ");

    private final Map<String, EmbeddingModel> ours = new LinkedHashMap<>();
    private final EmbeddingModel peer;

    /** Loads attn4j's model on each backend and, when {@code withPeer}, LangChain4j's. */
    MiniLmBench(List<String> backends, boolean withPeer) {
        for (String name : backends) {
            ours.put(name, new Attn4jMiniLmEmbeddingModel(Attn4j.kernels(name), EndToEnd.BATCH));
        }
        peer = withPeer ? new AllMiniLmL6V2EmbeddingModel() : null;
    }

    /** {@link EndToEnd#BATCH} different texts of exactly {@code tokens} tokens with [CLS] and [SEP]. */
    static List<TextSegment> texts(int tokens) {
        List<TextSegment> texts = new ArrayList<>();
        for (int t = 0; t < EndToEnd.BATCH; t++) {
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < tokens - 2; w++) {
                if (w > 0) {
                    sb.append(' ');
                }
                sb.append(WORDS[(w * 7 + t * 3) % WORDS.length]);
            }
            texts.add(TextSegment.from(sb.toString()));
        }
        return texts;
    }

    /** One call of attn4j's model on {@code backend}; checks once that every text has the expected tokens. */
    List<Embedding> ours(String backend, List<TextSegment> texts, int tokens) {
        Response<List<Embedding>> r = ours.get(backend).embedAll(texts);
        int want = texts.size() * (tokens - 2);
        if (r.tokenUsage().inputTokenCount() != want) {
            throw new IllegalStateException("the benchmark texts have " + r.tokenUsage().inputTokenCount()
                    + " word pieces, not " + want);
        }
        return r.content();
    }

    /** One call of LangChain4j's model. */
    List<Embedding> peer(List<TextSegment> texts) {
        return peer.embedAll(texts).content();
    }

    /** Max |Δ| between attn4j's embeddings on {@code backend} and LangChain4j's (unit vectors, element by element). */
    double maxDifference(String backend, List<TextSegment> texts, int tokens) {
        List<Embedding> a = ours(backend, texts, tokens);
        List<Embedding> b = peer(texts);
        double worst = 0;
        for (int i = 0; i < a.size(); i++) {
            float[] x = a.get(i).vector();
            float[] y = b.get(i).vector();
            for (int c = 0; c < x.length; c++) {
                double d = Math.abs((double) x[c] - y[c]);
                if (Double.isNaN(d)) {
                    return Double.POSITIVE_INFINITY;
                }
                worst = Math.max(worst, d);
            }
        }
        return worst;
    }
}
