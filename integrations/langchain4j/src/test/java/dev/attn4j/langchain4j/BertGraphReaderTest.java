package dev.attn4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.langchain4j.OnnxModel.Node;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ONNX reader and the graph follower on LangChain4j's real all-MiniLM-L6-v2 file, and the follower's
 * failures on copies of that graph altered one node at a time.
 */
class BertGraphReaderTest {
    private static OnnxModel model;
    private static BertWeights weights;

    @BeforeAll
    static void load() throws Exception {
        try (InputStream in = Attn4jMiniLmEmbeddingModel.resource(Attn4jMiniLmEmbeddingModel.MODEL_RESOURCE)) {
            model = OnnxModel.read(in);
        }
        weights = BertGraphReader.read(model);
    }

    @Test
    void theFileIsWhatLangChain4jShips() {
        // the issue says opset 11; the file agrees
        assertEquals(11, model.defaultOpset());
        assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"), model.graph().inputs());
        assertEquals(List.of("last_hidden_state"), model.graph().outputs());
        assertArrayEquals(new long[] {30522, 384}, model.graph().initializers().get("embeddings.word_embeddings.weight").dims());
        long matmuls = model.graph().nodes().stream().filter(n -> n.opType().equals("MatMul")).count();
        assertEquals(6 * 8, matmuls, "per layer: Q, K, V, scores, context, output, up, down");
    }

    @Test
    void theLayoutIsMiniLmL6() {
        assertEquals(384, weights.hidden());
        assertEquals(12, weights.heads());
        assertEquals(32, weights.headDim());
        assertEquals(1536, weights.intermediate());
        assertEquals(6, weights.layers().size());
        assertEquals(30522, weights.vocabSize());
        assertEquals(2, weights.typeCount());
        assertEquals(512, weights.maxPositions());
        assertEquals((float) (1 / Math.sqrt(32)), weights.attentionScale(), 1e-7f);
        assertEquals(1e-12f, weights.embeddingNorm().epsilon());
        for (int i = 0; i < 512; i++) {
            assertEquals(i, weights.positionIds()[i]);
        }
    }

    @Test
    void projectionsAreKeptAsInOutAndPackedAsQThenKThenV() {
        int e = 384;
        for (int layer : new int[] {0, 5}) {
            BertWeights.Layer l = weights.layers().get(layer);
            String[] parts = {"query", "key", "value"};
            for (int part = 0; part < 3; part++) {
                float[] onnx = matMulWeight("/encoder/layer." + layer + "/attention/self/" + parts[part] + "/MatMul");
                float[] bias = model.graph().initializers()
                        .get("encoder.layer." + layer + ".attention.self." + parts[part] + ".bias").floatValues();
                for (int o = 0; o < e; o += 37) {
                    for (int in = 0; in < e; in += 41) {
                        assertEquals(onnx[in * e + o], l.qkv()[in * 3 * e + part * e + o], "layer " + layer + " " + parts[part]);
                    }
                    assertEquals(bias[o], l.qkvBias()[part * e + o]);
                }
            }
            float[] up = matMulWeight("/encoder/layer." + layer + "/intermediate/dense/MatMul");
            float[] down = matMulWeight("/encoder/layer." + layer + "/output/dense/MatMul");
            for (int f = 0; f < 1536; f += 53) {
                for (int in = 0; in < e; in += 29) {
                    assertEquals(up[in * 1536 + f], l.up()[in * 1536 + f]);
                    assertEquals(down[f * e + in], l.down()[f * e + in]);
                }
            }
        }
    }

    /** The weight initializer of the MatMul node whose name is {@code name} (names are not used by the reader). */
    private static float[] matMulWeight(String name) {
        Node n = model.graph().nodes().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
        return model.graph().initializers().get(n.inputs().get(1)).floatValues();
    }

    @Test
    void anApproximateGeluIsRejected() {
        expectFailure(n -> n.opType().equals("Erf") && n.name().contains("layer.3")
                ? copy(n, "Tanh", n.inputs()) : n, "layer 3 GELU erf");
    }

    @Test
    void aMissingTokenTypeEmbeddingIsRejected() {
        // the Add of the token type embedding now adds the word embedding twice
        expectFailure(n -> n.name().equals("/embeddings/Add")
                ? copy(n, "Add", List.of(n.inputs().get(0), n.inputs().get(0))) : n, "embedding");
    }

    @Test
    void attentionWithoutTheMaskIsRejected() {
        expectFailure(n -> n.name().equals("/encoder/layer.2/attention/self/Add")
                ? copy(n, "Add", List.of(n.inputs().get(0), "embeddings.LayerNorm.bias")) : n,
                "layer 2: the Add after the score scaling does not add a mask");
    }

    @Test
    void swappedQueryAndKeyTransposesAreRejected() {
        expectFailure(n -> n.name().equals("/encoder/layer.1/attention/self/Transpose_2")
                ? withPerm(n, new long[] {0, 2, 1, 3}) : n, "layer 1");
    }

    @Test
    void aLayerNormOverTheWrongAxisIsRejected() {
        expectFailure(n -> n.name().equals("/encoder/layer.4/output/LayerNorm/ReduceMean")
                ? withAttribute(n, new OnnxModel.Attribute("axes", 7, 0, 0, null, null, new float[0], new long[] {1})) : n,
                "not the last one");
    }

    private static void expectFailure(UnaryOperator<Node> change, String expected) {
        List<Node> nodes = new ArrayList<>();
        for (Node n : model.graph().nodes()) {
            nodes.add(change.apply(n));
        }
        OnnxModel.Graph g = model.graph();
        OnnxModel altered = new OnnxModel(model.irVersion(), model.opsets(),
                new OnnxModel.Graph(g.name(), nodes, g.initializers(), g.inputs(), g.outputs()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BertGraphReader.read(altered));
        assertTrue(e.getMessage().startsWith("not the expected BERT graph: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    private static Node copy(Node n, String op, List<String> inputs) {
        return new Node(n.name(), op, n.domain(), inputs, n.outputs(), n.attributes());
    }

    private static Node withPerm(Node n, long[] perm) {
        return withAttribute(n, new OnnxModel.Attribute("perm", 7, 0, 0, null, null, new float[0], perm));
    }

    private static Node withAttribute(Node n, OnnxModel.Attribute a) {
        java.util.Map<String, OnnxModel.Attribute> attrs = new java.util.LinkedHashMap<>(n.attributes());
        attrs.put(a.name(), a);
        return new Node(n.name(), n.opType(), n.domain(), n.inputs(), n.outputs(), attrs);
    }
}
