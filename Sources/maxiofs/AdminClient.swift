import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// How `maxiofs admin` reaches a running server: `/api/v1` on the console port.
struct AdminOptions: ParsableArguments {
    @Option(help: "Console endpoint of the server (MAXIOFS_ENDPOINT). Default: http://127.0.0.1:8081")
    var endpoint: String?

    @Option(help: "User to log in as (MAXIOFS_USERNAME). Default: admin")
    var username: String?

    /// Given as `--password` before the command (see `MaxIOFS.hoistAdminOptions`).
    @Option(name: .customLong("login-password"), help: "Password (MAXIOFS_PASSWORD); --password before the command.")
    var password: String?

    @Option(help: "The current two-factor code (or a backup code) for a user with 2FA on (MAXIOFS_OTP).")
    var otp: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func client() throws -> AdminClient {
        let env = ProcessInfo.processInfo.environment
        let base = endpoint ?? env["MAXIOFS_ENDPOINT"] ?? "http://127.0.0.1:8081"
        guard let url = URL(string: base), url.scheme == "http" || url.scheme == "https" else {
            throw ValidationError("--endpoint: '\(base)' is not an http(s) URL")
        }
        guard let password = password ?? env["MAXIOFS_PASSWORD"] else {
            throw ValidationError("no password: pass --password or set MAXIOFS_PASSWORD")
        }
        return AdminClient(
            base: base.hasSuffix("/") ? String(base.dropLast()) : base,
            username: username ?? env["MAXIOFS_USERNAME"] ?? "admin", password: password,
            otp: otp ?? env["MAXIOFS_OTP"], json: json)
    }
}

/// A failure reported by the server, or on the way to it.
struct AdminError: Error, CustomStringConvertible {
    var description: String
}

struct AdminClient {
    let base: String
    let username: String
    let password: String
    let otp: String?
    let json: Bool

    /// Logs in, then sends one request; returns the decoded JSON answer.
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any {
        try await session { token in try await send(method, path, body, token: token) }
    }

    /// Logs in, runs `body` with the session token, logs out.
    func session<T>(_ body: (String) async throws -> T) async throws -> T {
        let login = try await send(
            "POST", "/api/v1/auth/login", ["username": username, "password": password], token: nil)
        var answer = login as? [String: Any]
        if answer?["two_factor_required"] as? Bool == true, let challenge = answer?["challenge"] as? String {
            guard let otp else {
                throw AdminError(description: "\(username) has two-factor authentication on: pass --otp CODE")
            }
            answer =
                try await send("POST", "/api/v1/auth/login/2fa", ["challenge": challenge, "code": otp], token: nil)
                as? [String: Any]
        }
        guard let token = answer?["token"] as? String else {
            throw AdminError(description: "login failed: no session token in the answer")
        }
        let result: T
        do {
            result = try await body(token)
        } catch {
            _ = try? await send("POST", "/api/v1/auth/logout", nil, token: token)
            throw error
        }
        _ = try? await send("POST", "/api/v1/auth/logout", nil, token: token)
        return result
    }

    func send(_ method: String, _ path: String, _ body: [String: Any]?, token: String?) async throws -> Any {
        let data = try await sendRaw(method, path, body, token: token)
        return data.isEmpty ? [String: Any]() : (try? JSONSerialization.jsonObject(with: data)) ?? [:]
    }

    /// One request; the answer's bytes when it succeeded, else the server's error as an AdminError.
    func sendRaw(_ method: String, _ path: String, _ body: [String: Any]?, token: String?) async throws -> Data {
        guard let url = URL(string: base + path) else { throw AdminError(description: "bad URL \(base + path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 60
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw AdminError(description: "cannot reach \(base): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let decoded: Any = (try? JSONSerialization.jsonObject(with: data)) ?? [:]
            if let e = (decoded as? [String: Any])?["error"] as? [String: Any] {
                throw AdminError(
                    description: "\(e["message"] as? String ?? "error") (\(e["code"] as? String ?? "\(status)"))")
            }
            throw AdminError(description: "the server answered HTTP \(status)")
        }
        return data
    }

    /// Prints an answer: JSON as asked, else one line per object.
    func output(_ value: Any, fields: [String]) {
        if json {
            if let data = try? JSONSerialization.data(
                withJSONObject: value,
                options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]),
                let text = String(data: data, encoding: .utf8)
            {
                print(text)
            }
            return
        }
        let rows = (value as? [[String: Any]]) ?? ((value as? [String: Any]).map { [$0] } ?? [])
        for row in rows {
            print(fields.map { f in "\(f)=\(Self.text(row[f]))" }.joined(separator: " "))
        }
    }

    static func text(_ v: Any?) -> String {
        switch v {
        case nil, is NSNull: return "-"
        case let s as String: return s
        case let a as [Any]: return a.map { text($0) }.joined(separator: ",")
        case let v?: return "\(v)"
        }
    }
}

/// Parses a byte count: `1073741824`, `10GiB`, `500MB`, `2T`...
func parseBytes(_ text: String) throws -> Int64 {
    let t = text.trimmingCharacters(in: .whitespaces)
    let units: [(String, Double)] = [
        ("kib", 1024), ("mib", 1_048_576), ("gib", 1_073_741_824), ("tib", 1_099_511_627_776),
        ("pib", 1_125_899_906_842_624),
        ("kb", 1e3), ("mb", 1e6), ("gb", 1e9), ("tb", 1e12), ("pb", 1e15),
        ("k", 1024), ("m", 1_048_576), ("g", 1_073_741_824), ("t", 1_099_511_627_776), ("b", 1),
    ]
    let lower = t.lowercased()
    for (suffix, factor) in units where lower.hasSuffix(suffix) {
        guard let n = Double(lower.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), n >= 0,
            (n * factor).isFinite, n * factor < 9.2e18
        else { break }
        return Int64(n * factor)
    }
    guard let n = Int64(t), n >= 0 else {
        throw ValidationError("'\(text)' is not a size (bytes, or with a unit such as 10GiB or 500MB)")
    }
    return n
}

func pathComponent(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
}
