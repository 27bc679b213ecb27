package dev.kiln.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The tests' one JSON reader (Jackson): /kiln/status, the environment dumps of test scripts, precompile's event
 * lines, exec forms in the Dockerfile. Whole numbers read as {@code Long}; text that is not JSON fails the test
 * with the text in the message.
 */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Json() {
    }

    public static JsonNode tree(String text) {
        return read(text, new TypeReference<>() { });
    }

    /** A JSON object as a map: strings, Longs, Doubles, Booleans, nulls, lists and maps. */
    public static Map<String, Object> map(String text) {
        return read(text, new TypeReference<>() { });
    }

    /** A flat object of string values, as a script's {@code json.dumps(dict(os.environ))} prints. */
    public static Map<String, String> strings(String text) {
        return read(text, new TypeReference<>() { });
    }

    /** A JSON array of strings, as in the exec form of RUN, CMD and ENTRYPOINT. */
    public static List<String> stringList(String text) {
        return read(text, new TypeReference<>() { });
    }

    /** One JSON object per line (JSON Lines). */
    public static List<Map<String, Object>> lines(String text) {
        List<Map<String, Object>> out = new ArrayList<>();
        text.lines().forEach(l -> out.add(map(l)));
        return out;
    }

    private static <T> T read(String text, TypeReference<T> type) {
        try {
            return MAPPER.readValue(text, type);
        } catch (JsonProcessingException e) {
            throw new AssertionError("not the JSON expected (" + e.getOriginalMessage() + "): " + text, e);
        }
    }
}
