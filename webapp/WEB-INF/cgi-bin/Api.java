import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A small JSON API in Java. Kiln compiles it once into its cache (javac of the JDK that runs it) and runs the
 * jar from then on, with a start-up cache built after its first run.
 *
 * GET  /cgi-bin/Api.java?name=Ada         {"greeting": "Hello, Ada!", ...}
 * POST /cgi-bin/Api.java (form-urlencoded) the submitted fields, echoed as JSON
 */
public class Api {
    static final int MAX_BODY = 1 << 20;

    public static void main(String[] args) throws IOException {
        String method = env("REQUEST_METHOD");
        Map<String, String> fields = parse(env("QUERY_STRING"));
        if (method.equals("POST")) {
            int length = Integer.parseInt(env("CONTENT_LENGTH").isEmpty() ? "0" : env("CONTENT_LENGTH"));
            if (length > MAX_BODY || !env("CONTENT_TYPE").startsWith("application/x-www-form-urlencoded")) {
                respond("415 Unsupported Media Type", Map.of("error", "send at most 1 MiB of form fields"));
                return;
            }
            fields.putAll(parse(new String(System.in.readNBytes(length), StandardCharsets.UTF_8)));
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("greeting", "Hello, " + fields.getOrDefault("name", "world") + "!");
        answer.put("method", method);
        answer.put("fields", fields);
        answer.put("time", Instant.now().toString());
        answer.put("java", Runtime.version().toString());
        answer.put("server", env("SERVER_SOFTWARE"));
        respond("200 OK", answer);
    }

    static String env(String name) {
        String v = System.getenv(name);
        return v == null ? "" : v;
    }

    static Map<String, String> parse(String form) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String pair : form.split("&")) {
            if (!pair.isEmpty()) {
                int eq = pair.indexOf('=');
                String key = eq < 0 ? pair : pair.substring(0, eq);
                String value = eq < 0 ? "" : pair.substring(eq + 1);
                m.put(URLDecoder.decode(key, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
            }
        }
        return m;
    }

    static void respond(String status, Map<String, ?> body) {
        byte[] json = (json(body) + "\n").getBytes(StandardCharsets.UTF_8);
        System.out.print("Status: " + status + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + json.length + "\r\n\r\n");
        System.out.flush();
        System.out.write(json, 0, json.length);
        System.out.flush();
    }

    static String json(Object value) {
        if (value instanceof Map<?, ?> map) {
            StringBuilder b = new StringBuilder("{");
            map.forEach((k, v) -> b.append(b.length() > 1 ? ", " : "").append(json(k)).append(": ").append(json(v)));
            return b.append('}').toString();
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : String.valueOf(value).toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> b.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return b.append('"').toString();
    }
}
