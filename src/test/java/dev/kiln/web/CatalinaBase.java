package dev.kiln.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * Builds a CATALINA_BASE by hand, as an operator would: Tomcat's conf copied and its server.xml cut down to one
 * HTTP connector, wars unpacked, a web.xml given init-params.
 */
final class CatalinaBase {
    private CatalinaBase() {
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    static void unzip(Path zip, Path to) throws IOException {
        Path root = Files.createDirectories(to).toAbsolutePath().normalize();
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                Path target = root.resolve(e.getName()).normalize();
                if (!target.startsWith(root)) {
                    throw new IOException("zip entry leaves the folder: " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(in, target);
                }
            }
        }
    }

    private static DocumentBuilder xmlParser(boolean namespaces) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(namespaces);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        return f.newDocumentBuilder();
    }

    private static void writeXml(Document doc, Path file) throws Exception {
        Transformer t = TransformerFactory.newInstance().newTransformer();
        t.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
        try (OutputStream out = Files.newOutputStream(file)) {
            t.transform(new DOMSource(doc), new StreamResult(out));
        }
    }

    /** One HTTP connector on 127.0.0.1:port, no AJP, no TLS connector, no shutdown port; WARs checked each second. */
    static void rewriteServerXml(Path serverXml, int httpPort) throws Exception {
        Document doc = xmlParser(false).parse(serverXml.toFile());
        Element server = doc.getDocumentElement();
        assertThat(server.getTagName()).isEqualTo("Server");
        server.setAttribute("port", "-1");
        int http = 0;
        NodeList connectors = doc.getElementsByTagName("Connector");
        for (Element c : elements(connectors)) {
            String protocol = c.getAttribute("protocol");
            if (protocol.toUpperCase().contains("AJP") || "true".equalsIgnoreCase(c.getAttribute("SSLEnabled"))) {
                c.getParentNode().removeChild(c);
                continue;
            }
            c.setAttribute("port", Integer.toString(httpPort));
            c.setAttribute("address", "127.0.0.1");
            c.removeAttribute("redirectPort");
            http++;
        }
        assertThat(http).as("HTTP connectors in %s", serverXml).isEqualTo(1);
        // Tomcat looks for changed WARs every second instead of every ten: a test's redeploy is seen at once
        for (Element engine : elements(doc.getElementsByTagName("Engine"))) {
            engine.setAttribute("backgroundProcessorDelay", "1");
        }
        writeXml(doc, serverXml);
        String written = Files.readString(serverXml);
        assertThat(written).contains("port=\"" + httpPort + "\"").contains("port=\"-1\"");
    }

    /** Adds init-params to the servlet named "cgi", before its load-on-startup as the schema orders them. */
    static void addCgiInitParams(Path webXml, Map<String, String> params) throws Exception {
        Document doc = xmlParser(true).parse(new InputSource(new StringReader(Files.readString(webXml))));
        Element cgi = null;
        for (Element servlet : elements(doc.getElementsByTagNameNS("*", "servlet"))) {
            for (Element name : elements(servlet.getElementsByTagNameNS("*", "servlet-name"))) {
                if (name.getTextContent().trim().equals("cgi")) {
                    cgi = servlet;
                }
            }
        }
        assertThat(cgi).as("servlet 'cgi' in %s", webXml).isNotNull();
        String ns = cgi.getNamespaceURI();
        Node before = null;
        for (Element e : elements(cgi.getElementsByTagNameNS("*", "load-on-startup"))) {
            before = e;
        }
        for (Map.Entry<String, String> p : params.entrySet()) {
            Element param = doc.createElementNS(ns, "init-param");
            Element name = doc.createElementNS(ns, "param-name");
            name.setTextContent(p.getKey());
            Element value = doc.createElementNS(ns, "param-value");
            value.setTextContent(p.getValue());
            param.appendChild(name);
            param.appendChild(value);
            cgi.insertBefore(param, before);
        }
        writeXml(doc, webXml);
    }

    private static List<Element> elements(NodeList list) {
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < list.getLength(); i++) {
            out.add((Element) list.item(i));
        }
        return out;
    }
}
