package dev.attn4j.api;

import java.util.Objects;

/** Validation of the literature family's extra arguments (score functions, local-p, indices). */
final class FamilyChecks {
    private FamilyChecks() {
    }

    /** Checks the score function's weights against {@code p}. */
    static void score(AttentionProblem p, ScoreFunction f) {
        Objects.requireNonNull(f, "score function must not be null (use ScoreFunction.dot())");
        switch (f) {
            case ScoreFunction.Dot d -> { }
            case ScoreFunction.General g -> Checks.broadcastsTo("general score weight w", g.w(),
                    new int[] {p.heads(), p.headDim(), p.headDim()});
            case ScoreFunction.Additive a -> {
                int hidden = a.hidden();
                int[] target = {p.heads(), hidden, p.headDim()};
                Checks.broadcastsTo("additive score weight w1", a.w1(), target);
                Checks.broadcastsTo("additive score weight w2", a.w2(), target);
                Checks.broadcastsTo("additive score vector v", a.v(), new int[] {p.heads(), hidden});
            }
            case ScoreFunction.Cosine c -> { }
        }
    }

    /** Checks local-p's weights against {@code p}. */
    static void localP(AttentionProblem p, LocalP local) {
        Objects.requireNonNull(local, "local-p parameters must not be null");
        int hidden = local.hidden();
        Checks.broadcastsTo("local-p weight wp", local.wp(), new int[] {p.heads(), hidden, p.headDim()});
        Checks.broadcastsTo("local-p vector vp", local.vp(), new int[] {p.heads(), hidden});
    }

    /** An output must not overlap any weight of the score function. */
    static void disjointFromScore(String outName, Tensor out, ScoreFunction f) {
        for (Tensor w : f.weights()) {
            Checks.disjoint(outName, out, "a score function weight", w);
        }
    }

    /** Checks an optional index array of {@code rows · perRow} entries. */
    static void indices(int[] indices, long rows, int perRow, String what) {
        if (indices != null && indices.length != rows * perRow) {
            throw new IllegalArgumentException("indices must have " + what + " = " + rows * perRow + " entries but has "
                    + indices.length);
        }
    }
}
