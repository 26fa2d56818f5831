package dev.attn4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.output.Response;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * attn4j's all-MiniLM-L6-v2 against LangChain4j's own (ONNX Runtime), on the same corpus in the same
 * JVM: every embedding within cosine 0.9999, the same token usage, the same rejections, and no
 * dependence on the batch a text is embedded in.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Attn4jMiniLmParityTest {
    /** The bar for every text of the corpus. */
    static final double MIN_COSINE = 0.9999;
    private static final System.Logger LOG = System.getLogger(Attn4jMiniLmParityTest.class.getName());

    private List<String> corpus;
    private Attn4jMiniLmEmbeddingModel attn4j;
    private EmbeddingModel onnx;
    private List<Embedding> attn4jEmbeddings;
    private List<Embedding> onnxEmbeddings;
    private Response<List<Embedding>> onnxResponse;
    private int attn4jTokens;

    @BeforeAll
    void embedCorpus() throws Exception {
        corpus = ParityCorpus.texts();
        attn4j = new Attn4jMiniLmEmbeddingModel();
        onnx = new AllMiniLmL6V2EmbeddingModel();
        List<TextSegment> segments = corpus.stream().map(TextSegment::from).toList();

        long t0 = System.nanoTime();
        onnxResponse = onnx.embedAll(segments);
        long t1 = System.nanoTime();
        // Two halves on two threads: the model is thread-safe, and the reference backend is single-threaded.
        int half = segments.size() / 2;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Response<List<Embedding>>> a = pool.submit(() -> attn4j.embedAll(segments.subList(0, half)));
            Future<Response<List<Embedding>>> b = pool.submit(() -> attn4j.embedAll(segments.subList(half, segments.size())));
            attn4jEmbeddings = new ArrayList<>(a.get().content());
            attn4jEmbeddings.addAll(b.get().content());
            attn4jTokens = a.get().tokenUsage().inputTokenCount() + b.get().tokenUsage().inputTokenCount();
        } finally {
            pool.shutdown();
        }
        long t2 = System.nanoTime();
        onnxEmbeddings = onnxResponse.content();
        LOG.log(System.Logger.Level.INFO, String.format("corpus of %d texts (%d word pieces): ONNX Runtime %.1f s, attn4j (%s) %.1f s",
                corpus.size(), attn4jTokens, (t1 - t0) / 1e9, attn4j.backendName(), (t2 - t1) / 1e9));
    }

    @Test
    void theCorpusIsLargeAndCoversTheLimits() {
        assertTrue(corpus.size() >= 200, "corpus has " + corpus.size() + " texts");
        assertTrue(corpus.stream().anyMatch(t -> t.codePoints().anyMatch(Character::isIdeographic)), "CJK");
        assertTrue(corpus.stream().anyMatch(t -> t.codePoints().anyMatch(c -> c >= 0x1F300)), "emoji");
        assertTrue(ParityCorpus.REJECTED.contains(""), "the empty string");
        assertTrue(ParityCorpus.longTexts().get(0).split(" ").length > 512, "a text past 512 word pieces");
        assertTrue(corpus.containsAll(ParityCorpus.longTexts()), "the long texts");
    }

    @Test
    void everyEmbeddingMatchesOnnxRuntime() {
        assertEquals(corpus.size(), attn4jEmbeddings.size());
        assertEquals(corpus.size(), onnxEmbeddings.size());
        double min = 1;
        int worst = -1;
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i++) {
            float[] a = attn4jEmbeddings.get(i).vector();
            float[] o = onnxEmbeddings.get(i).vector();
            assertEquals(384, a.length, "dimension of text " + i);
            double cos = cosine(a, o);
            if (cos < min) {
                min = cos;
                worst = i;
            }
            if (!(cos >= MIN_COSINE)) {
                failures.add(String.format("#%d cos=%.6f %s", i, cos, abbreviate(corpus.get(i))));
            }
            assertEquals(1.0, norm(a), 1e-5, "attn4j's embedding of text " + i + " is not unit length");
        }
        LOG.log(System.Logger.Level.INFO, String.format("min cosine over %d texts: %.10f (#%d %s)", corpus.size(), min, worst,
                abbreviate(corpus.get(worst))));
        if (!failures.isEmpty()) {
            fail(failures.size() + " texts below cosine " + MIN_COSINE + ":\n" + String.join("\n", failures));
        }
    }

    @Test
    void tokenUsageMatchesOnnxRuntime() {
        assertEquals(onnxResponse.tokenUsage().inputTokenCount(), attn4jTokens);
        // LangChain4j's tokenizer file truncates to 128 tokens, so every text past that counts 126 word pieces
        // and is one part (its 510-piece split never triggers with this file)
        for (String t : ParityCorpus.longTexts()) {
            int expected = onnx.embed(t).tokenUsage().inputTokenCount();
            Attn4jMiniLmEmbeddingModel.Split split = attn4j.split(List.of(t));
            assertEquals(expected, split.tokenCount(), abbreviate(t));
            assertEquals(1, split.parts().size(), abbreviate(t));
        }
        assertEquals(126, attn4j.split(List.of(ParityCorpus.longTexts().get(0))).tokenCount());
    }

    @Test
    void oneEncodingGivesTheIdsOfLangChain4jsReencoding() throws Exception {
        // LangChain4j's OnnxBertBiEncoder: tokenize, cut into parts, and encode each part's text again (its
        // decoding when that tokenizes back to the part, else the pieces joined); split() skips the passes
        // whose result it knows
        try (InputStream in = Attn4jMiniLmEmbeddingModel.resource(Attn4jMiniLmEmbeddingModel.TOKENIZER_RESOURCE);
             HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(in, Map.of("padding", "false"))) {
            List<String> texts = new ArrayList<>(corpus);
            texts.add("Ünïcödé   spaces\tand\nnewlines, CAPITALS and punctuation!!");
            Attn4jMiniLmEmbeddingModel.Split split = attn4j.split(texts);
            int at = 0;
            for (int t = 0; t < texts.size(); t++) {
                List<String> tokens = tokenizer.tokenize(texts.get(t));
                for (List<String> piece : Attn4jMiniLmEmbeddingModel.partition(tokens, Attn4jMiniLmEmbeddingModel.MAX_PART_TOKENS)) {
                    String decoded = tokenizer.buildSentence(piece);
                    List<String> again = tokenizer.tokenize(decoded);
                    boolean same = again.size() >= 2 && again.subList(1, again.size() - 1).equals(piece);
                    Encoding want = tokenizer.encode(same ? decoded : String.join("", piece), true, false);
                    Attn4jMiniLmEmbeddingModel.Part got = split.parts().get(at++);
                    assertEquals(t, got.text());
                    assertArrayEquals(want.getIds(), got.ids(), abbreviate(texts.get(t)));
                    assertArrayEquals(want.getTypeIds(), got.typeIds(), abbreviate(texts.get(t)));
                    assertEquals(piece.size(), got.weight());
                }
            }
            assertEquals(split.parts().size(), at);
        }
    }

    @Test
    void blankTextsAreRejectedLikeLangChain4j() {
        for (String t : ParityCorpus.REJECTED) {
            Class<? extends Throwable> expected = thrown(() -> onnx.embed(t));
            Class<? extends Throwable> actual = thrown(() -> attn4j.embed(t));
            assertEquals(IllegalArgumentException.class, expected, "LangChain4j on " + escape(t));
            assertEquals(expected, actual, "attn4j on " + escape(t));
        }
    }

    @Test
    void batchingDoesNotChangeAnEmbedding() {
        // texts of very different lengths, so that most of them are padded inside the mixed batch
        // (kept short: on the reference backend every padded token costs as much as a real one)
        String longest = corpus.stream().filter(t -> t.startsWith("The committee reviewed")).findFirst().orElseThrow();
        List<String> mixed = List.of("a", "Hello, world!", "我爱自然语言处理。", "I love pizza 🍕", longest);
        Attn4jMiniLmEmbeddingModel oneBatch = new Attn4jMiniLmEmbeddingModel(attn4j.encoder().kernels(), 64);
        List<Embedding> together = oneBatch.embedAll(mixed.stream().map(TextSegment::from).toList()).content();
        for (int i = 0; i < mixed.size(); i++) {
            float[] alone = attn4j.embed(mixed.get(i)).content().vector();
            float[] inBatch = together.get(i).vector();
            double cos = cosine(alone, inBatch);
            assertTrue(cos >= MIN_COSINE, "text " + i + " alone vs in a mixed batch: cosine " + cos);
            double maxDiff = 0;
            for (int c = 0; c < alone.length; c++) {
                maxDiff = Math.max(maxDiff, Math.abs(alone[c] - inBatch[c]));
            }
            // padding only adds masked keys, whose weights are exactly zero: the difference is rounding
            assertTrue(maxDiff < 1e-5, "text " + i + " alone vs in a mixed batch: max |diff| " + maxDiff);
        }
        // and the corpus run, where texts shared sorted, padded batches of 32, agrees with a text run alone
        int i = corpus.indexOf("The cat sat on the mat.");
        assertTrue(cosine(attn4j.embed(corpus.get(i)).content().vector(), attn4jEmbeddings.get(i).vector()) >= MIN_COSINE);
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    private static double norm(float[] a) {
        double s = 0;
        for (float v : a) {
            s += (double) v * v;
        }
        return Math.sqrt(s);
    }

    private static Class<? extends Throwable> thrown(Runnable r) {
        try {
            r.run();
            return null;
        } catch (RuntimeException e) {
            return e.getClass();
        }
    }

    private static String abbreviate(String t) {
        String e = escape(t);
        return e.length() <= 60 ? e : e.substring(0, 57) + "...";
    }

    private static String escape(String t) {
        StringBuilder sb = new StringBuilder("\"");
        t.codePoints().forEach(c -> {
            if (c < 0x20 || c == 0x200b) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.append('"').toString();
    }
}
