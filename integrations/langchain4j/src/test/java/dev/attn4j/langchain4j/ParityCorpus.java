package dev.attn4j.langchain4j;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The fixed corpus both models embed in {@link Attn4jMiniLmParityTest}: short and long texts,
 * punctuation, code, numbers, accented Latin, non-Latin scripts, emoji, control and zero-width
 * characters, and texts past the model's token limits. Most texts are short on purpose: the
 * reference backend (a float64 oracle) costs about a tenth of a second per token, and the whole corpus
 * must stay cheap enough for CI on two cores.
 */
final class ParityCorpus {
    private ParityCorpus() {
    }

    /** Texts that LangChain4j rejects (blank, or no word piece at all); attn4j's model must reject them too. */
    static final List<String> REJECTED = List.of("", " ", "\n\t  \r\n", "\u200b", "\u0000\u0001");

    private static final String[] SHORT = {
        "a", "I", "OK", "yes", "no", "42", "0", "π", "#", "…", "-", "?!", "hello", "Hello", "HELLO", "hello!",
        "world", "cat", "dogs", "running", "unbelievable", "antidisestablishmentarianism", "café", "naïve",
        "résumé", "Zürich", "São Paulo", "x", "xyzzy", "qwertyuiop",
    };

    private static final String[] SENTENCES = {
        "The quick brown fox jumps over the lazy dog.",
        "All models are wrong, but some are useful.",
        "Attention is all you need.",
        "The cat sat on the mat.",
        "A journey of a thousand miles begins with a single step.",
        "I love reading books on rainy afternoons.",
        "The weather today is sunny with a light breeze.",
        "Please send me the report by Friday.",
        "Our meeting has been moved to 3 pm.",
        "She sells sea shells by the sea shore.",
        "How do I reset my password?",
        "What is the capital of France?",
        "Paris is the capital of France.",
        "Berlin is the capital of Germany.",
        "Machine learning models need data.",
        "Neural networks learn representations.",
        "The stock market fell sharply on Monday.",
        "He plays the guitar every evening.",
        "Water boils at 100 degrees Celsius.",
        "The library opens at nine in the morning.",
        "Can you recommend a good Italian restaurant?",
        "My flight was delayed by two hours.",
        "The museum is closed on public holidays.",
        "Photosynthesis converts light into chemical energy.",
        "The train to Boston leaves from platform four.",
        "I forgot my umbrella at the office.",
        "Mount Everest is the highest mountain on Earth.",
        "The children built a sandcastle on the beach.",
        "This product arrived broken and I want a refund.",
        "Great service, friendly staff, would come again!",
        "The new update drains my phone battery.",
        "Java is a statically typed language.",
        "Vectors are compared by cosine similarity.",
        "Sentence embeddings map text to vectors.",
        "Retrieval augmented generation uses a vector store.",
        "The invoice is attached to this email.",
        "Turn left at the second traffic light.",
        "The recipe calls for two cups of flour.",
        "Our team won the championship last year.",
        "The patient was discharged after three days.",
        "Quantum computers use qubits instead of bits.",
        "Bananas are rich in potassium.",
        "The concert was cancelled due to rain.",
        "Never gonna give you up.",
        "To be, or not to be, that is the question.",
        "It was the best of times, it was the worst of times.",
        "Call me Ishmael.",
        "In the beginning was the Word.",
        "The sun rises in the east.",
        "Please keep the door closed.",
        "He said he would call back later.",
        "Where did you park the car?",
        "The server returned an internal error.",
        "Restart the application and try again.",
        "Tokenization splits text into word pieces.",
        "Every layer normalizes its output.",
        "Softmax turns scores into probabilities.",
        "The answer is forty-two.",
        "Bob's burgers are the best in town.",
        "I can't believe it's not butter!",
    };

    private static final String[] PUNCTUATION = {
        "Hello, world!",
        "Wait... what?!",
        "\"Quoted text\" and 'single quotes'.",
        "(parentheses) [brackets] {braces} <angles>",
        "semi;colon:colon,comma.period",
        "!!!???...,,,;;;",
        "--- *** ___ === +++",
        "e-mail, re-enter, co-operate",
        "It's a dog's life; isn't it?",
        "5% off — today only!",
        "«Guillemets» and „German quotes“",
        "¿Dónde está la biblioteca?",
        "¡Hola! ¿Qué tal?",
        "C'est la vie, n'est-ce pas ?",
        "Mr. Smith & Mrs. Jones @ 10:30 a.m.",
        "1, 2, 3... liftoff!",
        "A/B testing; pros/cons; and/or.",
        "~tilde~ ^caret^ `backticks` |pipes|",
        "#hashtag @mention $dollar %percent",
        "...",
    };

    private static final String[] CODE_AND_NUMBERS = {
        "public static void main(String[] args) {}",
        "for (int i = 0; i < n; i++) sum += a[i];",
        "SELECT name FROM users WHERE id = 42;",
        "git commit -m \"fix: handle empty input\"",
        "https://example.com/path?query=1&lang=en",
        "user.name+tag@example.org",
        "C:\\Program Files\\Java\\bin\\java.exe",
        "{\"key\": \"value\", \"n\": [1, 2, 3]}",
        "x = (-b ± √(b² − 4ac)) / 2a",
        "E = mc²",
        "3.14159265358979323846",
        "1,000,000.00 USD",
        "+1 (555) 123-4567",
        "2024-02-29T12:34:56Z",
        "0xDEADBEEF 0b1010 0o777",
        "192.168.0.1:8080",
        "v1.2.3-beta.4+build.5",
        "ISBN 978-3-16-148410-0",
        "x86_64 aarch64 riscv64",
        "snake_case camelCase PascalCase kebab-case",
    };

    private static final String[] ACCENTED_LATIN = {
        "Le cœur a ses raisons que la raison ne connaît point.",
        "Über den Wolken muss die Freiheit wohl grenzenlos sein.",
        "Mañana será otro día.",
        "Tiếng Việt có nhiều dấu.",
        "Zażółć gęślą jaźń.",
        "Çok güzel bir gün.",
        "Příliš žluťoučký kůň úpěl ďábelské ódy.",
        "Hyvää huomenta!",
        "Ærlig talt, øl og åbne vinduer.",
        "Straße, Größe, Fußgänger",
        "Ça va très bien, merci.",
        "A língua portuguesa é bonita.",
        "Íslenska er fallegt tungumál.",
        "Olá, tudo bem?",
        "Dziękuję bardzo!",
    };

    private static final String[] NON_LATIN = {
        "你好，世界",
        "我爱自然语言处理。",
        "今天天气很好。",
        "こんにちは世界",
        "東京は日本の首都です。",
        "ひらがなとカタカナ",
        "안녕하세요 세계",
        "한국어 문장입니다.",
        "Привет, мир!",
        "Москва — столица России.",
        "Γειά σου Κόσμε",
        "Η γλώσσα είναι ελληνική.",
        "مرحبا بالعالم",
        "اللغة العربية جميلة.",
        "שלום עולם",
        "नमस्ते दुनिया",
        "यह एक हिंदी वाक्य है।",
        "สวัสดีชาวโลก",
        "გამარჯობა მსოფლიო",
        "Բարեւ աշխարհ",
        "ሰላም ልዑል",
        "வணக்கம் உலகம்",
        "ওহে বিশ্ব",
        "Salam dünya, Привет мир, 你好世界",
        "English mixed with 日本語 and Русский.",
    };

    private static final String[] EMOJI = {
        "😀",
        "🚀🚀🚀",
        "I love pizza 🍕",
        "Good morning ☀️",
        "👍",
        "❤️ love it",
        "🎉 Congratulations! 🎉",
        "The weather is 🌧️ today",
        "👨‍👩‍👧‍👦 family",
        "🇫🇷 🇯🇵 🇧🇷",
        "Thumbs up 👍🏽",
        "☕ + 📚 = 😊",
        "🤖 robots are coming",
        "😂😂😂 so funny",
        "✓ done ✗ failed",
    };

    private static final String[] ODD = {
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "ha ha ha ha ha ha ha ha",
        "tab\tseparated\tvalues",
        "line one\nline two\nline three",
        "  leading and trailing spaces  ",
        "multiple     spaces     between",
        "zero\u200bwidth\u200bspaces",
        "soft\u00adhyphen",
        "e\u0301 combining accent",
        "ｆｕｌｌｗｉｄｔｈ ｌｅｔｔｅｒｓ",
        "ALL CAPS SENTENCE HERE",
        "MiXeD cAsE tExT",
        "no_spaces_at_all_just_underscores",
        "\u0007bell and\u0000null",
        "Ω ≈ ç √ ∫ ˜ µ ≤ ≥ ÷",
        "℃ ℉ № ™ ® ©",
        "ﬁ ligature ﬂ",
        "½ ¼ ¾ ⅓",
        "Ⅻ roman numerals Ⅳ",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters",
    };

    private static final String[] MEDIUM = {
        "Sentence embeddings are dense vector representations of text that capture its meaning, so that texts "
                + "with similar meanings are close to each other in the vector space.",
        "The committee reviewed the proposal in detail, asked for a revised budget, and scheduled a follow-up "
                + "meeting for the second week of next month to make a final decision.",
        "Der schnelle braune Fuchs springt über den faulen Hund, während die Katze auf der Matte schläft und "
                + "der Vogel im Baum singt.",
        "自然语言处理是人工智能的一个重要分支，它研究如何让计算机理解和生成人类语言。",
    };

    /** The corpus: 212 texts, two of them past the tokenizer's truncation (128 tokens) and past 512. */
    static List<String> texts() {
        List<String> all = new ArrayList<>();
        for (String[] group : new String[][] {SHORT, SENTENCES, PUNCTUATION, CODE_AND_NUMBERS, ACCENTED_LATIN, NON_LATIN,
                EMOJI, ODD, MEDIUM}) {
            Collections.addAll(all, group);
        }
        all.addAll(longTexts());
        return List.copyOf(all);
    }

    /**
     * Texts past the limits: about 1,100 word pieces (past 512) and 600 CJK characters, which the
     * tokenizer truncates to 128 tokens, and one 3,000-character word, which becomes [UNK].
     */
    static List<String> longTexts() {
        return List.of(
                String.join(" ", java.util.Collections.nCopies(100, "The model reads every token of this long text once.")),
                "注意力机制".repeat(120),
                "a".repeat(3000));
    }
}
