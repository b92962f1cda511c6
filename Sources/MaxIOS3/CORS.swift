import MaxIOCore

/// A bucket's CORS rules (PutBucketCors), and how a browser request is matched against them.
package struct CORSRule: Sendable, Equatable, Codable {
    package var id: String?
    package var allowedOrigins: [String]
    package var allowedMethods: [String]
    package var allowedHeaders: [String]
    package var exposeHeaders: [String]
    package var maxAgeSeconds: Int?

    package init(
        id: String? = nil, allowedOrigins: [String], allowedMethods: [String], allowedHeaders: [String] = [],
        exposeHeaders: [String] = [], maxAgeSeconds: Int? = nil
    ) {
        self.id = id
        self.allowedOrigins = allowedOrigins
        self.allowedMethods = allowedMethods
        self.allowedHeaders = allowedHeaders
        self.exposeHeaders = exposeHeaders
        self.maxAgeSeconds = maxAgeSeconds
    }
}

package enum CORS {
    static let methods: Set<String> = ["GET", "PUT", "HEAD", "POST", "DELETE"]
    package static let maxRules = 100

    /// Reads a `CORSConfiguration` document, with S3's checks and errors.
    package static func parse(_ doc: XMLNode) throws(S3Error) -> [CORSRule] {
        guard doc.name == "CORSConfiguration" else { throw S3Error(.MalformedXML) }
        let nodes = doc.all("CORSRule")
        guard !nodes.isEmpty, doc.children.allSatisfy({ $0.name == "CORSRule" }) else {
            throw S3Error(.MalformedXML)
        }
        guard nodes.count <= maxRules else {
            throw S3Error(.InvalidRequest, "The number of CORS rules should not exceed allowed limit of 100 rules.")
        }
        var rules: [CORSRule] = []
        for n in nodes {
            let known: Set<String> = [
                "ID", "AllowedOrigin", "AllowedMethod", "AllowedHeader", "ExposeHeader", "MaxAgeSeconds",
            ]
            guard n.children.allSatisfy({ known.contains($0.name) }) else { throw S3Error(.MalformedXML) }
            var r = CORSRule(
                id: n.child("ID")?.text, allowedOrigins: n.all("AllowedOrigin").map(\.text),
                allowedMethods: n.all("AllowedMethod").map(\.text), allowedHeaders: n.all("AllowedHeader").map(\.text),
                exposeHeaders: n.all("ExposeHeader").map(\.text))
            guard !r.allowedOrigins.isEmpty, !r.allowedMethods.isEmpty else { throw S3Error(.MalformedXML) }
            if let id = r.id, id.count > 255 {
                throw S3Error(.InvalidArgument, "The ID of a CORS rule cannot be longer than 255 characters.")
            }
            for m in r.allowedMethods where !methods.contains(m) {
                throw S3Error(
                    .InvalidRequest, "Found unsupported HTTP method in CORS config. Unsupported method is \(m)")
            }
            for o in r.allowedOrigins where o.filter({ $0 == "*" }).count > 1 {
                throw S3Error(.InvalidRequest, "AllowedOrigin \"\(o)\" can not have more than one wildcard.")
            }
            for h in r.allowedHeaders where h.filter({ $0 == "*" }).count > 1 {
                throw S3Error(.InvalidRequest, "AllowedHeader \"\(h)\" can not have more than one wildcard.")
            }
            let ages = n.all("MaxAgeSeconds")
            if ages.count > 1 { throw S3Error(.MalformedXML) }
            if let a = ages.first {
                guard let v = Int(a.text.trimmingSpaces()), v >= 0 else { throw S3Error(.MalformedXML) }
                r.maxAgeSeconds = v
            }
            rules.append(r)
        }
        return rules
    }

    package static func xml(_ rules: [CORSRule]) -> String {
        var w = XMLWriter()
        w.open("CORSConfiguration")
        for r in rules {
            w.open("CORSRule", namespace: nil)
            if let id = r.id { w.element("ID", id) }
            for h in r.allowedHeaders { w.element("AllowedHeader", h) }
            for m in r.allowedMethods { w.element("AllowedMethod", m) }
            for o in r.allowedOrigins { w.element("AllowedOrigin", o) }
            for h in r.exposeHeaders { w.element("ExposeHeader", h) }
            if let a = r.maxAgeSeconds { w.element("MaxAgeSeconds", a) }
            w.close("CORSRule")
        }
        w.close("CORSConfiguration")
        return w.finish()
    }

    /// `pattern` with at most one `*` standing for any run of characters.
    package static func wildcard(_ pattern: String, matches value: String, ignoringCase: Bool) -> Bool {
        let p = ignoringCase ? pattern.lowercased() : pattern
        let v = ignoringCase ? value.lowercased() : value
        guard let star = p.firstIndex(of: "*") else { return p == v }
        let prefix = p[..<star]
        let suffix = p[p.index(after: star)...]
        return v.count >= prefix.count + suffix.count && v.hasPrefix(prefix) && v.hasSuffix(suffix)
    }

    /// The first rule that allows `origin` to use `method` (and, for a preflight, send every header in
    /// `requestHeaders`).
    package static func match(
        _ rules: [CORSRule], origin: String, method: String, requestHeaders: [String] = []
    ) -> CORSRule? {
        rules.first { r in
            r.allowedOrigins.contains { wildcard($0, matches: origin, ignoringCase: false) }
                && r.allowedMethods.contains(method)
                && requestHeaders.allSatisfy { h in
                    r.allowedHeaders.contains { wildcard($0, matches: h, ignoringCase: true) }
                }
        }
    }

    /// The response headers for a request that `rule` allowed. A rule for any origin (`*`) answers `*` and no
    /// credentials, as S3 does; any other answers the request's origin and allows credentials.
    package static func responseHeaders(
        _ rule: CORSRule, origin: String, preflight: Bool, method: String, requestHeaders: [String]
    ) -> [(String, String)] {
        let any = rule.allowedOrigins.contains("*")
        var out: [(String, String)] = [("Access-Control-Allow-Origin", any ? "*" : origin)]
        if !any { out.append(("Access-Control-Allow-Credentials", "true")) }
        if preflight {
            out.append(("Access-Control-Allow-Methods", rule.allowedMethods.joined(separator: ", ")))
            if !requestHeaders.isEmpty {
                out.append(("Access-Control-Allow-Headers", requestHeaders.joined(separator: ", ")))
            }
            if let age = rule.maxAgeSeconds { out.append(("Access-Control-Max-Age", String(age))) }
        } else {
            out.append(("Access-Control-Allow-Methods", rule.allowedMethods.joined(separator: ", ")))
        }
        if !rule.exposeHeaders.isEmpty {
            out.append(("Access-Control-Expose-Headers", rule.exposeHeaders.joined(separator: ", ")))
        }
        out.append(("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"))
        return out
    }

    package static func isMethod(_ m: String) -> Bool { methods.contains(m) }

    /// The header names of `Access-Control-Request-Headers`, lower-cased.
    package static func requestedHeaders(_ value: String?) -> [String] {
        guard let value else { return [] }
        return value.split(separator: ",").map { $0.trimmingSpaces().lowercased() }.filter { !$0.isEmpty }
    }
}
