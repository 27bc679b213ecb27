package dev.kiln.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.kiln.testing.RawHttp;

/** Every request method reaches the script as REQUEST_METHOD; HEAD runs it and sends no body. */
class MethodsTest extends LimitsFixture {
    private String echoScript(String t) throws Exception {
        quick.script("methods/echo-" + t + ".sh", "#!/bin/sh\n"
                + "touch " + marks + "/method-" + t + "-$REQUEST_METHOD\n"
                + "body=$(cat)\n"
                + "printf 'Content-Type: text/plain\\nX-Method: %s\\n\\n' \"$REQUEST_METHOD\"\n"
                + "echo \"method=$REQUEST_METHOD length=${CONTENT_LENGTH:-none} body=$body\"\n");
        return "/cgi-bin/methods/echo-" + t + ".sh";
    }

    @Test
    void headRunsTheScriptAndSendsNoBody() throws Exception {
        String t = tag();
        String path = echoScript(t);
        RawHttp.Reply answer = RawHttp.exchange(quick.port(),
                "HEAD " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertThat(answer.text()).as("a complete head").contains("\r\n\r\n")
                .startsWith("HTTP/1.1 200").containsIgnoringCase("\r\nX-Method: HEAD\r\n");
        assertThat(answer.body()).as("no body after a HEAD response").isEmpty();
        assertThat(marks.resolve("method-" + t + "-HEAD")).exists();
    }

    @Test
    void headThroughTheJdkClientGetsTheScriptsHeaders() throws Exception {
        String path = echoScript(tag());
        HttpResponse<String> viaClient = quick.send(HttpRequest.newBuilder(quick.uri(path))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
        assertThat(viaClient.statusCode()).isEqualTo(200);
        assertThat(viaClient.headers().firstValue("X-Method")).hasValue("HEAD");
        assertThat(viaClient.body()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"PUT", "PATCH", "DELETE", "OPTIONS", "POST", "PROPFIND"})
    void everyMethodReachesTheScript(String m) throws Exception {
        String path = echoScript(tag());
        boolean withBody = m.equals("PUT") || m.equals("PATCH") || m.equals("POST");
        String data = "data-" + m;
        HttpResponse<String> r = quick.send(HttpRequest.newBuilder(quick.uri(path))
                .timeout(Duration.ofSeconds(30))
                .method(m, withBody ? HttpRequest.BodyPublishers.ofString(data)
                        : HttpRequest.BodyPublishers.noBody()).build());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Method")).hasValue(m);
        // a body-less request may still say Content-Length: 0 (the JDK client does for DELETE)
        assertThat(r.body()).matches("method=" + m + " length=" + (withBody ? data.length() : "(none|0)")
                + " body=" + (withBody ? data : "") + "\n");
    }
}
