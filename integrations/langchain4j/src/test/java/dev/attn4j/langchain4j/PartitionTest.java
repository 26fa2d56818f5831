package dev.attn4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Attn4jMiniLmEmbeddingModel#partition} against LangChain4j's own {@code OnnxBertBiEncoder.partition}
 * (package-private, called by reflection) on token lists past 510 word pieces, with words of
 * continuation pieces ({@code ##}) at and across the cuts. The model's tokenizer file truncates to 128
 * tokens, so this split never runs on the real model; it is kept identical for tokenizers that do not.
 */
class PartitionTest {

    @SuppressWarnings("unchecked")
    private static List<List<String>> langchain4j(List<String> tokens, int size) throws Exception {
        Class<?> encoder = Class.forName("dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder");
        Method partition = encoder.getDeclaredMethod("partition", List.class, int.class);
        partition.setAccessible(true);
        return (List<List<String>>) partition.invoke(null, tokens, size);
    }

    @Test
    void partsAreLangChain4jsOnRandomTokenLists() throws Exception {
        long seed = 20261122L;
        SplittableRandom random = new SplittableRandom(seed);
        for (int trial = 0; trial < 300; trial++) {
            int size = trial % 3 == 0 ? Attn4jMiniLmEmbeddingModel.MAX_PART_TOKENS : 1 + random.nextInt(12);
            List<String> tokens = new ArrayList<>();
            tokens.add("[CLS]");
            int n = random.nextInt(3 * size + 3);
            for (int i = 0; i < n; i++) {
                // mostly words, some continuations, some long runs of continuations
                int kind = random.nextInt(10);
                tokens.add(kind < 6 || i == 0 ? "w" + i : "##p" + i);
                if (kind == 9) {
                    for (int r = random.nextInt(2 * size + 1); r > 0; r--) {
                        tokens.add("##run");
                    }
                }
            }
            tokens.add("[SEP]");
            assertEquals(langchain4j(tokens, size), Attn4jMiniLmEmbeddingModel.partition(tokens, size),
                    "seed " + seed + ", trial " + trial + ", size " + size + ", tokens " + tokens);
        }
    }

    @Test
    void edgeCases() throws Exception {
        List<List<String>> cases = List.of(
                List.of("[CLS]", "[SEP]"),
                List.of("[CLS]", "a", "[SEP]"),
                List.of("[CLS]", "a", "##b", "##c", "##d", "[SEP]"),
                List.of("[CLS]", "a", "b", "##c", "d", "[SEP]"),
                List.of("[CLS]", "##a", "##b", "##c", "[SEP]"));
        for (List<String> tokens : cases) {
            for (int size = 1; size <= 4; size++) {
                assertEquals(langchain4j(tokens, size), Attn4jMiniLmEmbeddingModel.partition(tokens, size), tokens + " by " + size);
            }
        }
    }
}
