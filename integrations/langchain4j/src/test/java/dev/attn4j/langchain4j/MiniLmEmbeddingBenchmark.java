package dev.attn4j.langchain4j;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * End-to-end texts per second of all-MiniLM-L6-v2 through LangChain4j's {@code EmbeddingModel.embedAll}:
 * attn4j's model (on the default backend) against LangChain4j's own (ONNX Runtime), in the same run.
 *
 * <p>Each text tokenizes to exactly {@code tokens} tokens with [CLS] and [SEP] (checked at setup), and
 * the {@code batch} texts of one call are different. LangChain4j's tokenizer file truncates every text to
 * 128 tokens, so {@code tokens = 256} measures 128-token texts in both models; the parameter keeps the
 * issue's name for the case.
 *
 * <p>Scores are texts per second: {@code batch32} counts 32 operations per call
 * ({@code @OperationsPerInvocation} cannot depend on a parameter, so the two batch sizes are two methods).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xss4m"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MiniLmEmbeddingBenchmark {
    /** Single-word-piece words (lower-case English), cycled to build texts of an exact token count. */
    private static final String[] WORDS = ("the model reads every word of this text and maps it to a vector that keeps "
            + "its meaning so that similar sentences end up close together in space while different ones stay far "
            + "apart from each other when we compare them").split(" ");

    @Param({"attn4j", "onnxruntime"})
    public String model;

    @Param({"16", "64", "256"})
    public int tokens;

    private EmbeddingModel embeddingModel;
    private List<TextSegment> one;
    private List<TextSegment> batch32;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        embeddingModel = switch (model) {
            case "attn4j" -> new Attn4jMiniLmEmbeddingModel();
            case "onnxruntime" -> new AllMiniLmL6V2EmbeddingModel();
            default -> throw new IllegalArgumentException("model must be attn4j or onnxruntime but is " + model);
        };
        List<String> texts = texts(32, tokens);
        try (InputStream in = Attn4jMiniLmEmbeddingModel.resource(Attn4jMiniLmEmbeddingModel.TOKENIZER_RESOURCE);
             HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(in, Map.of("padding", "false"))) {
            int expected = Math.min(tokens, 128);
            for (String t : texts) {
                int n = tokenizer.encode(t, true, false).getIds().length;
                if (n != expected) {
                    throw new IllegalStateException("a benchmark text has " + n + " tokens, not " + expected + ": " + t);
                }
            }
        }
        batch32 = texts.stream().map(TextSegment::from).toList();
        one = List.of(batch32.get(0));
        // check once that the two models agree on these inputs
        float[] a = new Attn4jMiniLmEmbeddingModel().embed(texts.get(0)).content().vector();
        float[] o = new AllMiniLmL6V2EmbeddingModel().embed(texts.get(0)).content().vector();
        double cos = Attn4jMiniLmParityTest.cosine(a, o);
        if (!(cos >= Attn4jMiniLmParityTest.MIN_COSINE)) {
            throw new IllegalStateException("attn4j and ONNX Runtime disagree on the benchmark text: cosine " + cos);
        }
    }

    /** {@code count} different texts of exactly {@code tokens} tokens (with [CLS] and [SEP]). */
    static List<String> texts(int count, int tokens) {
        List<String> texts = new ArrayList<>();
        for (int t = 0; t < count; t++) {
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < tokens - 2; w++) {
                if (w > 0) {
                    sb.append(' ');
                }
                sb.append(WORDS[(w * 7 + t * 3) % WORDS.length]);
            }
            texts.add(sb.toString());
        }
        return texts;
    }

    /** One text per call: score = texts/s. */
    @Benchmark
    public List<Embedding> batch1() {
        return embeddingModel.embedAll(one).content();
    }

    /** 32 texts per call: score = texts/s. */
    @Benchmark
    @OperationsPerInvocation(32)
    public List<Embedding> batch32() {
        return embeddingModel.embedAll(batch32).content();
    }
}
