/// A small, fast XML writer for S3 response documents.
package struct XMLWriter: Sendable {
    package static let s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"
    private var out: String

    package init(capacity: Int = 512) {
        out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out.reserveCapacity(capacity)
    }

    package mutating func open(_ name: String, namespace: String? = XMLWriter.s3Namespace) {
        out += "<"
        out += name
        if let namespace {
            out += " xmlns=\""
            out += namespace
            out += "\""
        }
        out += ">"
    }

    package mutating func close(_ name: String) {
        out += "</"
        out += name
        out += ">"
    }

    package mutating func element(_ name: String, _ text: String) {
        out += "<"
        out += name
        out += ">"
        Self.escape(text, into: &out)
        out += "</"
        out += name
        out += ">"
    }

    package mutating func element(_ name: String, _ value: some BinaryInteger) {
        element(name, String(value))
    }

    package mutating func element(_ name: String, _ value: Bool) {
        element(name, value ? "true" : "false")
    }

    package mutating func text(_ text: String) {
        Self.escape(text, into: &out)
    }

    package mutating func finish() -> String { out }

    /// Appends markup as it is (a start tag with attributes).
    package mutating func raw(_ markup: String) { out += markup }

    package static func escape(_ s: String, into out: inout String) {
        var needs = false
        for c in s.utf8 where c == 38 || c == 60 || c == 62 || c == 34 || c == 39 || c < 32 {
            needs = true
            break
        }
        guard needs else {
            out += s
            return
        }
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n": out.unicodeScalars.append(ch)
            default:
                if ch.value < 32 {
                    out += "&#x\(String(ch.value, radix: 16));"
                } else {
                    out.unicodeScalars.append(ch)
                }
            }
        }
    }
}

/// A parsed XML element: name without namespace prefix, child elements and text.
package struct XMLNode: Sendable {
    package var name: String
    package var children: [XMLNode] = []
    package var text: String = ""

    package func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }
    package func all(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }
}

package struct XMLParseError: Error, Sendable {}

/// A small, strict XML parser for S3 request bodies (a few KiB): elements, text, entities, CDATA,
/// comments and processing instructions; attributes are skipped. Throws on anything not well-formed.
package enum XMLParser {
    package static func parse(_ bytes: [UInt8]) throws(XMLParseError) -> XMLNode {
        var p = Parser(b: bytes)
        p.skipMisc()
        guard p.peek() == UInt8(ascii: "<") else { throw XMLParseError() }
        let root = try p.element(depth: 0)
        p.skipMisc()
        guard p.i == p.b.count else { throw XMLParseError() }
        return root
    }

    private struct Parser {
        let b: [UInt8]
        var i = 0

        func peek(_ off: Int = 0) -> UInt8? { i + off < b.count ? b[i + off] : nil }

        func starts(_ s: String) -> Bool {
            let u = Array(s.utf8)
            guard i + u.count <= b.count else { return false }
            for k in 0..<u.count where b[i + k] != u[k] { return false }
            return true
        }

        mutating func skipSpace() {
            while let c = peek(), c == 32 || c == 9 || c == 10 || c == 13 { i += 1 }
        }

        /// Skips whitespace, comments, processing instructions and a DOCTYPE.
        mutating func skipMisc() {
            while true {
                skipSpace()
                if starts("<?") {
                    guard let end = find("?>") else { i = b.count + 1; return }
                    i = end + 2
                } else if starts("<!--") {
                    guard let end = find("-->") else { i = b.count + 1; return }
                    i = end + 3
                } else if starts("<!DOCTYPE") {
                    // DTDs are refused: no entity expansion attacks.
                    i = b.count + 1
                    return
                } else {
                    return
                }
            }
        }

        func find(_ s: String) -> Int? {
            let u = Array(s.utf8)
            var k = i
            while k + u.count <= b.count {
                if b[k] == u[0] {
                    var ok = true
                    for j in 1..<u.count where b[k + j] != u[j] {
                        ok = false
                        break
                    }
                    if ok { return k }
                }
                k += 1
            }
            return nil
        }

        static func isNameByte(_ c: UInt8) -> Bool {
            !(c == 32 || c == 9 || c == 10 || c == 13 || c == UInt8(ascii: ">") || c == UInt8(ascii: "/")
                || c == UInt8(ascii: "=") || c == UInt8(ascii: "<"))
        }

        mutating func name() throws(XMLParseError) -> String {
            let start = i
            while let c = peek(), Self.isNameByte(c) { i += 1 }
            guard i > start else { throw XMLParseError() }
            var n = Array(b[start..<i])
            if let colon = n.lastIndex(of: UInt8(ascii: ":")) { n = Array(n[(colon + 1)...]) }
            return String(decoding: n, as: UTF8.self)
        }

        mutating func element(depth: Int) throws(XMLParseError) -> XMLNode {
            guard depth < 64 else { throw XMLParseError() }
            i += 1  // <
            var node = XMLNode(name: try name())
            // attributes
            while true {
                skipSpace()
                guard let c = peek() else { throw XMLParseError() }
                if c == UInt8(ascii: "/") {
                    guard peek(1) == UInt8(ascii: ">") else { throw XMLParseError() }
                    i += 2
                    return node
                }
                if c == UInt8(ascii: ">") {
                    i += 1
                    break
                }
                _ = try name()
                skipSpace()
                guard peek() == UInt8(ascii: "=") else { throw XMLParseError() }
                i += 1
                skipSpace()
                guard let q = peek(), q == 34 || q == 39 else { throw XMLParseError() }
                i += 1
                while let c = peek(), c != q { i += 1 }
                guard peek() == q else { throw XMLParseError() }
                i += 1
            }
            // content
            var text = [UInt8]()
            while true {
                guard let c = peek() else { throw XMLParseError() }
                if c == UInt8(ascii: "<") {
                    if starts("</") {
                        i += 2
                        let closing = try name()
                        skipSpace()
                        guard closing == node.name, peek() == UInt8(ascii: ">") else { throw XMLParseError() }
                        i += 1
                        node.text = String(decoding: text, as: UTF8.self)
                        return node
                    } else if starts("<![CDATA[") {
                        i += 9
                        guard let end = find("]]>") else { throw XMLParseError() }
                        text.append(contentsOf: b[i..<end])
                        i = end + 3
                    } else if starts("<!--") || starts("<?") {
                        let term = starts("<!--") ? "-->" : "?>"
                        guard let end = find(term) else { throw XMLParseError() }
                        i = end + term.utf8.count
                    } else if starts("<!") {
                        throw XMLParseError()
                    } else {
                        node.children.append(try element(depth: depth + 1))
                    }
                } else if c == UInt8(ascii: "&") {
                    guard let semi = b[i...].firstIndex(of: UInt8(ascii: ";")), semi - i < 12 else {
                        throw XMLParseError()
                    }
                    let ent = String(decoding: b[(i + 1)..<semi], as: UTF8.self)
                    i = semi + 1
                    switch ent {
                    case "lt": text.append(UInt8(ascii: "<"))
                    case "gt": text.append(UInt8(ascii: ">"))
                    case "amp": text.append(UInt8(ascii: "&"))
                    case "quot": text.append(34)
                    case "apos": text.append(39)
                    default:
                        guard ent.hasPrefix("#") else { throw XMLParseError() }
                        let num = ent.dropFirst()
                        let v: UInt32? =
                            num.hasPrefix("x") ? UInt32(num.dropFirst(), radix: 16) : UInt32(num, radix: 10)
                        guard let v, let scalar = Unicode.Scalar(v) else { throw XMLParseError() }
                        text.append(contentsOf: Array(String(Character(scalar)).utf8))
                    }
                } else {
                    text.append(c)
                    i += 1
                }
            }
        }
    }
}
