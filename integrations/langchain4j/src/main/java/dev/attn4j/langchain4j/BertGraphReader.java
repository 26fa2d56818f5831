package dev.attn4j.langchain4j;

import dev.attn4j.langchain4j.OnnxModel.Node;
import dev.attn4j.langchain4j.OnnxModel.TensorData;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds a BERT encoder's weights in an ONNX graph by following the graph from its inputs, not by
 * initializer names or positions: the {@code Gather}s that read {@code input_ids} and
 * {@code token_type_ids}, the chain of {@code Add}s into the embedding LayerNorm, then, layer after
 * layer, the three {@code MatMul}s that read the hidden state (told apart as Q, K and V by where they
 * meet: Q and K in the score {@code MatMul}, V in the one after the {@code Softmax}), the output
 * projection, the residual {@code Add}s, the LayerNorms and the GELU feed-forward, until a LayerNorm's
 * output is the graph's output.
 *
 * <p>LayerNorm is recognised both decomposed (PyTorch's export at opset &lt; 17: ReduceMean, Sub, Pow,
 * ReduceMean, Add ε, Sqrt, Div, Mul γ, Add β) and as {@code LayerNormalization}; exact GELU both as
 * Div √2, Erf, Add 1, Mul x, Mul ½ and as {@code Gelu}. Anything else fails with an
 * {@link IllegalArgumentException} naming the node where the graph left the expected structure.
 */
final class BertGraphReader {
    private final OnnxModel.Graph graph;
    private final Map<String, Node> producers = new HashMap<>();
    private final Map<String, List<Node>> consumers = new HashMap<>();

    private BertGraphReader(OnnxModel.Graph graph) {
        this.graph = graph;
        for (Node n : graph.nodes()) {
            for (String out : n.outputs()) {
                producers.put(out, n);
            }
            for (String in : n.inputs()) {
                if (!in.isEmpty()) {
                    consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
                }
            }
        }
    }

    /** The weights of the BERT encoder that {@code model}'s graph computes. */
    static BertWeights read(OnnxModel model) {
        return new BertGraphReader(model.graph()).read();
    }

    private BertWeights read() {
        require(graph.inputs().contains("input_ids"), "the graph has no input 'input_ids' (inputs: " + graph.inputs() + ")");
        require(graph.outputs().size() >= 1, "the graph has no output");
        String lastHidden = graph.outputs().get(0);

        // ---- embeddings: Gather(word, input_ids) + Gather(type, token_type_ids) + Gather(position, ids), any order
        Node wordGather = gatherReading("input_ids");
        TensorData word = initializer(wordGather.inputs().get(0), wordGather);
        require(word.dims().length == 2, "the word embeddings '" + word.name() + "' must be [vocab, hidden] but are "
                + Arrays.toString(word.dims()));
        int hidden = (int) word.dims()[1];
        TensorData type = null;
        TensorData position = null;
        long[] positionIds = null;
        String sum = wordGather.outputs().get(0);
        Node next = single(sum, "Add", "the embedding sum");
        while (next != null) {
            String other = otherInput(next, sum);
            Node g = producers.get(other);
            require(g != null && g.opType().equals("Gather"), "embedding Add " + next + " adds '" + other
                    + "', which no Gather of an embedding table produces");
            TensorData table = initializer(g.inputs().get(0), g);
            String indices = g.inputs().get(1);
            if (indices.equals("token_type_ids")) {
                type = table;
            } else {
                position = table;
                positionIds = positionIds(indices, g);
            }
            sum = next.outputs().get(0);
            next = optional(sum, "Add");
        }
        require(position != null, "no position embedding Gather was added to the word embeddings");
        require(type != null, "no token type embedding Gather (reading 'token_type_ids') was added to the word embeddings");
        NormMatch embNorm = layerNorm(sum);

        // ---- encoder layers
        List<BertWeights.Layer> layers = new ArrayList<>();
        String h = embNorm.output();
        int heads = 0;
        int headDim = 0;
        int intermediate = 0;
        float scale = 0f;
        while (!h.equals(lastHidden)) {
            LayerMatch m = layer(h, hidden, layers.size());
            if (layers.isEmpty()) {
                heads = m.heads;
                headDim = m.headDim;
                intermediate = m.layer.upBias().length;
                scale = m.scale;
            } else {
                require(m.heads == heads && m.headDim == headDim && m.scale == scale
                        && m.layer.upBias().length == intermediate, "layer " + layers.size()
                        + " has another head layout, scale or feed-forward size than layer 0");
            }
            layers.add(m.layer);
            h = m.output;
        }
        require(!layers.isEmpty(), "the graph's output '" + lastHidden + "' is the embedding LayerNorm: no encoder layer");
        float[] typeTable = type.floatValues();
        require(typeTable.length % hidden == 0 && position.floatValues().length % hidden == 0,
                "the position and token type tables must have " + hidden + " columns");
        return new BertWeights(hidden, heads, headDim, intermediate, scale, word.floatValues(), position.floatValues(),
                positionIds, typeTable, embNorm.norm(), List.copyOf(layers));
    }

    // ------------------------------------------------------------------ one layer

    private record LayerMatch(BertWeights.Layer layer, String output, int heads, int headDim, float scale) {
    }

    /** What one projection branch reaches: the attention MatMul, the operand index and the transposes met. */
    private record Branch(Node matmul, int operand, List<long[]> perms, Node reshape) {
    }

    private LayerMatch layer(String h, int hidden, int index) {
        String where = "layer " + index;
        List<Node> projections = new ArrayList<>();
        for (Node n : consumersOf(h)) {
            if (n.opType().equals("MatMul") && n.inputs().get(0).equals(h) && graph.initializers().containsKey(n.inputs().get(1))) {
                projections.add(n);
            }
        }
        require(projections.size() == 3, where + ": expected 3 MatMuls (Q, K, V) reading '" + h + "' but found "
                + projections.size() + ": " + projections);
        Node scores = null;
        Node context = null;
        Projection q = null;
        Projection k = null;
        Projection v = null;
        Branch qBranch = null;
        for (Node mm : projections) {
            Projection p = projection(mm, hidden, where);
            Branch b = follow(p.output, where);
            Node producer0 = producers.get(b.matmul.inputs().get(0));
            boolean afterSoftmax = producer0 != null && producer0.opType().equals("Softmax");
            if (afterSoftmax) {
                require(b.operand == 1, where + ": a projection reaches the context MatMul " + b.matmul + " as its probabilities");
                require(v == null, where + ": two projections reach the context MatMul");
                v = p;
                context = b.matmul;
                requirePerms(b, new long[] {0, 2, 1, 3}, where + " V");
            } else if (b.operand == 0) {
                require(q == null, where + ": two projections reach the score MatMul as Q");
                q = p;
                qBranch = b;
                scores = checkSame(scores, b.matmul, where);
                requirePerms(b, new long[] {0, 2, 1, 3}, where + " Q");
            } else {
                require(k == null, where + ": two projections reach the score MatMul as K");
                k = p;
                scores = checkSame(scores, b.matmul, where);
                requirePerms(b, new long[] {0, 2, 3, 1}, where + " K");
            }
        }
        require(q != null && k != null && v != null, where + ": could not tell Q, K and V apart");

        // scores → Div √d (or Mul 1/√d) → Add mask → Softmax → context
        Node scaleNode = singleOf(scores.outputs().get(0), where + " score scaling", "Div", "Mul");
        float c = scalar(otherInput(scaleNode, scores.outputs().get(0)), scaleNode);
        float scale = scaleNode.opType().equals("Div") ? 1f / c : c;
        Node maskAdd = single(scaleNode.outputs().get(0), "Add", where + " mask");
        require(dependsOn(otherInput(maskAdd, scaleNode.outputs().get(0)), "attention_mask"),
                where + ": the Add after the score scaling does not add a mask derived from 'attention_mask': " + maskAdd);
        Node softmax = single(maskAdd.outputs().get(0), "Softmax", where + " softmax");
        long axis = softmax.attributes().containsKey("axis") ? softmax.attribute("axis").i() : -1;
        require(axis == 3 || axis == -1, where + ": the Softmax must run over the last axis but has axis " + axis);
        require(context != null && context.inputs().get(0).equals(softmax.outputs().get(0)),
                where + ": the Softmax does not feed the context MatMul");
        int[] headLayout = headLayout(qBranch.reshape, where);
        int heads = headLayout[0];
        int headDim = headLayout[1];
        require(heads * headDim == hidden, where + ": heads (" + heads + ") · headDim (" + headDim + ") != hidden (" + hidden + ")");

        // context → Transpose → Reshape → MatMul Wo → Add bo → Add residual → LayerNorm
        String ctx = context.outputs().get(0);
        Node t = single(ctx, "Transpose", where + " context transpose");
        require(Arrays.equals(t.attribute("perm").ints(), new long[] {0, 2, 1, 3}), where + ": the context Transpose has perm "
                + Arrays.toString(t.attribute("perm").ints()));
        Node r = single(t.outputs().get(0), "Reshape", where + " head merge");
        Node woMatMul = single(r.outputs().get(0), "MatMul", where + " output projection");
        Projection o = projection(woMatMul, hidden, where);
        String attnOut = residual(o.output, h, where + " attention residual");
        NormMatch n1 = layerNorm(attnOut);

        // feed-forward: MatMul W1 → Add b1 → GELU → MatMul W2 → Add b2 → Add residual → LayerNorm
        Node upMatMul = single(n1.output(), "MatMul", where + " feed-forward");
        Projection up = projection(upMatMul, hidden, where);
        String g = gelu(up.output, where);
        Node downMatMul = single(g, "MatMul", where + " feed-forward down projection");
        Projection down = projection(downMatMul, up.bias.length, where);
        require(down.bias.length == hidden, where + ": the down projection has " + down.bias.length + " outputs, not " + hidden);
        String ffOut = residual(down.output, n1.output(), where + " feed-forward residual");
        NormMatch n2 = layerNorm(ffOut);

        // [E, 3E]: row i holds q's, k's and v's weights of input feature i
        float[] qkv = new float[3 * hidden * hidden];
        for (int i = 0; i < hidden; i++) {
            System.arraycopy(q.weight, i * hidden, qkv, i * 3 * hidden, hidden);
            System.arraycopy(k.weight, i * hidden, qkv, i * 3 * hidden + hidden, hidden);
            System.arraycopy(v.weight, i * hidden, qkv, i * 3 * hidden + 2 * hidden, hidden);
        }
        float[] qkvBias = new float[3 * hidden];
        System.arraycopy(q.bias, 0, qkvBias, 0, hidden);
        System.arraycopy(k.bias, 0, qkvBias, hidden, hidden);
        System.arraycopy(v.bias, 0, qkvBias, 2 * hidden, hidden);
        BertWeights.Layer layer = new BertWeights.Layer(qkv, qkvBias, o.weight, o.bias, n1.norm(), up.weight, up.bias,
                down.weight, down.bias, n2.norm());
        return new LayerMatch(layer, n2.output(), heads, headDim, scale);
    }

    /** A MatMul by an initializer {@code [in, out]} followed by an Add of a bias {@code [out]}. */
    private record Projection(float[] weight, float[] bias, String output) {
    }

    private Projection projection(Node matmul, int in, String where) {
        TensorData w = initializer(matmul.inputs().get(1), matmul);
        require(w.dims().length == 2 && w.dims()[0] == in, where + ": MatMul " + matmul + " must have a weight [" + in
                + ", out] but '" + w.name() + "' is " + Arrays.toString(w.dims()));
        int out = (int) w.dims()[1];
        Node add = single(matmul.outputs().get(0), "Add", where + " bias of " + matmul.outputs().get(0));
        TensorData b = initializer(otherInput(add, matmul.outputs().get(0)), add);
        require(b.elementCount() == out, where + ": bias '" + b.name() + "' has " + b.elementCount() + " values, not " + out);
        return new Projection(w.floatValues(), b.floatValues(), add.outputs().get(0));
    }

    /** Follows a projection through Reshape/Transpose to the attention MatMul it feeds. */
    private Branch follow(String value, String where) {
        List<long[]> perms = new ArrayList<>();
        Node reshape = null;
        String at = value;
        for (int step = 0; step < 8; step++) {
            List<Node> real = new ArrayList<>();
            for (Node n : consumersOf(at)) {
                if (!n.opType().equals("Shape")) {
                    real.add(n);
                }
            }
            require(real.size() == 1, where + ": '" + at + "' should feed one Reshape, Transpose or MatMul but feeds " + real);
            Node n = real.get(0);
            switch (n.opType()) {
                case "Reshape" -> reshape = reshape == null ? n : reshape;
                case "Transpose" -> perms.add(n.attribute("perm").ints());
                case "MatMul" -> {
                    return new Branch(n, n.inputs().indexOf(at), perms, reshape);
                }
                default -> throw new IllegalArgumentException(where + ": expected Reshape, Transpose or MatMul after '" + at
                        + "' but found " + n);
            }
            at = n.outputs().get(0);
        }
        throw new IllegalArgumentException(where + ": '" + value + "' does not reach an attention MatMul");
    }

    private static void requirePerms(Branch b, long[] perm, String what) {
        require(b.perms.size() == 1 && Arrays.equals(b.perms.get(0), perm), what + " must be transposed with perm "
                + Arrays.toString(perm) + " before the attention MatMul but the transposes are "
                + b.perms.stream().map(Arrays::toString).toList());
        require(b.reshape != null, what + " is not split into heads by a Reshape");
    }

    /** Heads and head size from the Reshape that splits Q into heads: shape [.., .., heads, headDim]. */
    private int[] headLayout(Node reshape, String where) {
        String shape = reshape.inputs().get(1);
        long[] values;
        Node p = producers.get(shape);
        if (constant(shape) != null) {
            values = constant(shape).longValues();
        } else if (p != null && p.opType().equals("Concat") && p.inputs().size() == 4) {
            values = new long[] {scalarLong(p.inputs().get(2), p), scalarLong(p.inputs().get(3), p)};
        } else {
            throw new IllegalArgumentException(where + ": cannot read the head layout from the shape of " + reshape);
        }
        require(values.length >= 2, where + ": the head split " + reshape + " has shape " + Arrays.toString(values));
        return new int[] {Math.toIntExact(values[values.length - 2]), Math.toIntExact(values[values.length - 1])};
    }

    private static Node checkSame(Node seen, Node found, String where) {
        require(seen == null || seen == found, where + ": Q and K reach different MatMuls: " + seen + " and " + found);
        return found;
    }

    /** {@code Add(a, residual)}; returns its output. */
    private String residual(String value, String residual, String where) {
        Node add = single(value, "Add", where);
        require(otherInput(add, value).equals(residual), where + ": " + add + " should add '" + residual + "'");
        return add.outputs().get(0);
    }

    /** Exact GELU of {@code x}; returns its output. */
    private String gelu(String x, String where) {
        Node fused = optional(x, "Gelu");
        if (fused != null) {
            String approx = fused.attributes().containsKey("approximate") ? fused.attribute("approximate").s() : "none";
            require("none".equals(approx), where + ": the Gelu uses approximation '" + approx + "', not exact");
            return fused.outputs().get(0);
        }
        Node div = single(x, "Div", where + " GELU x/√2");
        float c = scalar(div.inputs().get(1), div);
        require(Math.abs(c - Math.sqrt(2.0)) < 1e-5, where + ": GELU divides by " + c + ", not √2");
        Node erf = single(div.outputs().get(0), "Erf", where + " GELU erf");
        Node add1 = single(erf.outputs().get(0), "Add", where + " GELU 1 + erf");
        require(scalar(otherInput(add1, erf.outputs().get(0)), add1) == 1f, where + ": GELU adds a constant other than 1");
        Node mulX = single(add1.outputs().get(0), "Mul", where + " GELU x·(1 + erf)");
        require(otherInput(mulX, add1.outputs().get(0)).equals(x), where + ": " + mulX + " does not multiply by x");
        Node half = single(mulX.outputs().get(0), "Mul", where + " GELU ½");
        require(scalar(otherInput(half, mulX.outputs().get(0)), half) == 0.5f, where + ": GELU scales by other than ½");
        return half.outputs().get(0);
    }

    // ------------------------------------------------------------------ LayerNorm

    private record NormMatch(BertWeights.Norm norm, String output) {
    }

    private NormMatch layerNorm(String x) {
        String where = "LayerNorm of '" + x + "'";
        Node fused = optional(x, "LayerNormalization");
        if (fused != null) {
            long axis = fused.attributes().containsKey("axis") ? fused.attribute("axis").i() : -1;
            require(axis == -1 || axis == 2, where + ": LayerNormalization over axis " + axis);
            float eps = fused.attributes().containsKey("epsilon") ? fused.attribute("epsilon").f() : 1e-5f;
            float[] scale = initializer(fused.inputs().get(1), fused).floatValues();
            float[] bias = fused.inputs().size() > 2 && !fused.inputs().get(2).isEmpty()
                    ? initializer(fused.inputs().get(2), fused).floatValues() : new float[scale.length];
            return new NormMatch(new BertWeights.Norm(scale, bias, eps), fused.outputs().get(0));
        }
        Node mean = single(x, "ReduceMean", where);
        requireLastAxis(mean, where);
        Node sub = single(mean.outputs().get(0), "Sub", where + " x − mean");
        require(sub.inputs().equals(List.of(x, mean.outputs().get(0))), where + ": " + sub + " is not x − mean");
        String centered = sub.outputs().get(0);
        Node pow = single(centered, "Pow", where + " (x − mean)²");
        require(scalar(pow.inputs().get(1), pow) == 2f, where + ": " + pow + " is not a square");
        Node var = single(pow.outputs().get(0), "ReduceMean", where + " variance");
        requireLastAxis(var, where);
        Node addEps = single(var.outputs().get(0), "Add", where + " variance + ε");
        float eps = scalar(otherInput(addEps, var.outputs().get(0)), addEps);
        Node sqrt = single(addEps.outputs().get(0), "Sqrt", where + " √(variance + ε)");
        Node div = single(sqrt.outputs().get(0), "Div", where + " normalization");
        require(div.inputs().equals(List.of(centered, sqrt.outputs().get(0))), where + ": " + div + " is not (x − mean)/σ");
        Node mul = single(div.outputs().get(0), "Mul", where + " scale");
        float[] scale = initializer(otherInput(mul, div.outputs().get(0)), mul).floatValues();
        Node add = single(mul.outputs().get(0), "Add", where + " bias");
        float[] bias = initializer(otherInput(add, mul.outputs().get(0)), add).floatValues();
        require(scale.length == bias.length, where + ": scale and bias differ in length");
        return new NormMatch(new BertWeights.Norm(scale, bias, eps), add.outputs().get(0));
    }

    private static void requireLastAxis(Node reduce, String where) {
        long[] axes = reduce.attribute("axes").ints();
        require(axes.length == 1 && (axes[0] == -1 || axes[0] == 2), where + ": " + reduce + " reduces axes "
                + Arrays.toString(axes) + ", not the last one");
    }

    // ------------------------------------------------------------------ embeddings helpers

    private Node gatherReading(String input) {
        for (Node n : consumersOf(input)) {
            if (n.opType().equals("Gather") && n.inputs().size() == 2 && n.inputs().get(1).equals(input)) {
                return n;
            }
        }
        throw new IllegalArgumentException("no Gather reads the embedding table with '" + input + "'");
    }

    /** The position ids a position Gather reads: Slice(position_ids, 0, seq) or the ids themselves. */
    private long[] positionIds(String indices, Node gather) {
        TensorData direct = constant(indices);
        if (direct != null) {
            return direct.longValues();
        }
        Node slice = producers.get(indices);
        require(slice != null && slice.opType().equals("Slice"), "the position Gather " + gather
                + " reads neither a constant nor a Slice of the position ids");
        TensorData ids = initializer(slice.inputs().get(0), slice);
        long start = scalarLong(slice.inputs().get(1), slice);
        require(start == 0, "the position ids are sliced from " + start + ", not 0: " + slice);
        return ids.longValues();
    }

    // ------------------------------------------------------------------ graph queries

    private List<Node> consumersOf(String value) {
        return consumers.getOrDefault(value, List.of());
    }

    /** The one consumer of {@code value} with op type {@code op}, or an exception naming what was expected. */
    private Node single(String value, String op, String what) {
        return singleOf(value, what, op);
    }

    private Node singleOf(String value, String what, String... ops) {
        List<Node> found = new ArrayList<>();
        for (Node n : consumersOf(value)) {
            if (Arrays.asList(ops).contains(n.opType())) {
                found.add(n);
            }
        }
        require(found.size() == 1, what + ": expected one " + String.join(" or ", ops) + " reading '" + value
                + "' but found " + found.size() + " (consumers: " + consumersOf(value) + ")");
        return found.get(0);
    }

    private Node optional(String value, String op) {
        for (Node n : consumersOf(value)) {
            if (n.opType().equals(op)) {
                return n;
            }
        }
        return null;
    }

    private static String otherInput(Node binary, String known) {
        require(binary.inputs().size() == 2, binary + " is not a binary operation");
        int i = binary.inputs().indexOf(known);
        require(i >= 0, binary + " does not read '" + known + "'");
        return binary.inputs().get(1 - i);
    }

    private TensorData initializer(String name, Node user) {
        TensorData t = graph.initializers().get(name);
        require(t != null, user + " should read an initializer but '" + name + "' is computed");
        return t;
    }

    /** An initializer or the value of a Constant node, or null. */
    private TensorData constant(String name) {
        TensorData t = graph.initializers().get(name);
        if (t != null) {
            return t;
        }
        Node p = producers.get(name);
        if (p != null && p.opType().equals("Constant") && p.attributes().containsKey("value")) {
            return p.attribute("value").t();
        }
        return null;
    }

    private float scalar(String name, Node user) {
        TensorData t = constant(name);
        require(t != null && t.elementCount() == 1, user + " should read a one-element constant but '" + name + "' is "
                + (t == null ? "computed" : Arrays.toString(t.dims())));
        return t.floats() != null ? t.floats()[0] : t.longValues()[0];
    }

    private long scalarLong(String name, Node user) {
        TensorData t = constant(name);
        require(t != null && t.elementCount() == 1, user + " should read a one-element integer constant but '" + name + "' is "
                + (t == null ? "computed" : Arrays.toString(t.dims())));
        return t.longValues()[0];
    }

    /** Whether {@code value} is computed (transitively) from the graph input {@code input}. */
    private boolean dependsOn(String value, String input) {
        Set<String> seen = new HashSet<>();
        ArrayDeque<String> todo = new ArrayDeque<>(List.of(value));
        while (!todo.isEmpty()) {
            String v = todo.pop();
            if (v.equals(input)) {
                return true;
            }
            Node p = producers.get(v);
            if (p != null && seen.add(v)) {
                todo.addAll(p.inputs());
            }
        }
        return false;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("not the expected BERT graph: " + message);
        }
    }
}
