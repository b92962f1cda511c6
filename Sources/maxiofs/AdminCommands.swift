import ArgumentParser
import Foundation

// `maxiofs admin ...` against a running server's /api/v1.

let tenantFields = [
    "name", "status", "max_storage_bytes", "max_buckets", "max_access_keys", "used_bytes",
    "object_count", "bucket_count", "access_key_count",
]
let userFields = ["name", "tenant", "role", "status", "id"]
let keyFields = ["access_key_id", "user", "tenant", "status", "created_at", "last_used"]
let groupFields = ["name", "tenant", "members"]
let grantFields = ["bucket", "user", "group", "tenant", "level", "expires_at"]
let quotaFields = ["bucket", "max_bytes", "max_objects", "used_bytes", "object_count"]

struct QuotaOptions: ParsableArguments {
    @Option(help: "Storage quota in bytes (or with a unit: 10GiB); 0 = unlimited.")
    var maxStorageBytes: String?
    @Option(help: "Maximum number of buckets; 0 = unlimited.")
    var maxBuckets: Int64?
    @Option(help: "Maximum number of access keys; 0 = unlimited.")
    var maxAccessKeys: Int64?

    func body() throws -> [String: Any] {
        var b: [String: Any] = [:]
        if let v = maxStorageBytes { b["max_storage_bytes"] = try parseBytes(v) }
        if let v = maxBuckets { b["max_buckets"] = v }
        if let v = maxAccessKeys { b["max_access_keys"] = v }
        return b
    }
}

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Tenants and their quotas.",
        subcommands: [Create.self, List.self, Show.self, Update.self, Delete.self])

    struct Create: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        @OptionGroup var quotas: QuotaOptions
        func run() async throws {
            var body = try quotas.body()
            body["name"] = name
            try await admin.request("POST", "/api/v1/tenants", body, fields: tenantFields)
        }
    }
    struct List: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        func run() async throws {
            try await admin.request("GET", "/api/v1/tenants", fields: tenantFields)
        }
    }
    struct Show: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        func run() async throws {
            try await admin.request("GET", "/api/v1/tenants/" + pathComponent(name), fields: tenantFields)
        }
    }
    struct Update: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        @OptionGroup var quotas: QuotaOptions
        @Option(help: "active or suspended") var status: String?
        func run() async throws {
            var body = try quotas.body()
            if let status { body["status"] = status }
            try await admin.request("PATCH", "/api/v1/tenants/" + pathComponent(name), body, fields: tenantFields)
        }
    }
    struct Delete: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        @Flag(help: "Also delete the tenant's users, keys and groups (its buckets must be deleted first).")
        var force = false
        func run() async throws {
            let q = force ? "?force=true" : ""
            try await admin.request("DELETE", "/api/v1/tenants/" + pathComponent(name) + q, fields: ["ok"])
        }
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Users.",
        subcommands: [Create.self, List.self, Show.self, Update.self, Delete.self])

    struct Create: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        @Option(name: .customLong("password"), help: "The new user's password.") var newPassword: String
        @Option(help: "The user's tenant (none: a global administrator).") var tenant: String?
        @Option(help: "admin, tenant-admin, user or readonly. Default: user (admin without --tenant)") var role: String?
        @Flag(help: "The password is temporary: the user must change it at first login.") var temporary = false
        func run() async throws {
            var body: [String: Any] = ["name": name, "password": newPassword, "temporary": temporary]
            if let tenant { body["tenant"] = tenant }
            body["role"] = role ?? (tenant == nil ? "admin" : "user")
            try await admin.request("POST", "/api/v1/users", body, fields: userFields)
        }
    }
    struct List: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Option var tenant: String?
        func run() async throws {
            let q = tenant.map { "?tenant=" + pathComponent($0) } ?? ""
            try await admin.request("GET", "/api/v1/users" + q, fields: userFields)
        }
    }
    struct Show: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        func run() async throws {
            try await admin.request("GET", "/api/v1/users/" + pathComponent(name), fields: userFields)
        }
    }
    struct Update: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        @Option(name: .customLong("password"), help: "A new password.") var newPassword: String?
        @Option var role: String?
        @Option(help: "active or disabled") var status: String?
        @Flag(help: "Clear a lockout after failed logins.") var unlock = false
        @Flag(help: "The new password is temporary.") var temporary = false
        func run() async throws {
            var body: [String: Any] = [:]
            if let newPassword { body["password"] = newPassword }
            if temporary { body["temporary"] = true }
            if let role { body["role"] = role }
            if let status { body["status"] = status }
            if unlock { body["unlock"] = true }
            try await admin.request("PATCH", "/api/v1/users/" + pathComponent(name), body, fields: userFields)
        }
    }
    struct Delete: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        func run() async throws {
            try await admin.request("DELETE", "/api/v1/users/" + pathComponent(name), fields: ["ok"])
        }
    }
}

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Access keys.",
        subcommands: [Create.self, List.self, Disable.self, Enable.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; the secret is shown once.")
        @OptionGroup var admin: AdminOptions
        @Option(help: "The key's user. Default: the user logged in.") var user: String?
        func run() async throws {
            var body: [String: Any] = [:]
            if let user { body["user"] = user }
            try await admin.request(
                "POST", "/api/v1/access-keys", body, fields: ["access_key_id", "secret_access_key", "user", "user_id"])
        }
    }
    struct List: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Option var user: String?
        func run() async throws {
            let q = user.map { "?user=" + pathComponent($0) } ?? ""
            try await admin.request("GET", "/api/v1/access-keys" + q, fields: keyFields)
        }
    }
    struct Disable: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var id: String
        func run() async throws {
            try await admin.request(
                "PATCH", "/api/v1/access-keys/" + pathComponent(id), ["status": "disabled"], fields: keyFields)
        }
    }
    struct Enable: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var id: String
        func run() async throws {
            try await admin.request(
                "PATCH", "/api/v1/access-keys/" + pathComponent(id), ["status": "active"], fields: keyFields)
        }
    }
    struct Delete: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var id: String
        func run() async throws {
            try await admin.request("DELETE", "/api/v1/access-keys/" + pathComponent(id), fields: ["ok"])
        }
    }
}

struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Groups of users.",
        subcommands: [Create.self, List.self, Delete.self, AddUser.self, RemoveUser.self])

    struct Create: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        @Option var tenant: String?
        func run() async throws {
            var body: [String: Any] = ["name": name]
            if let tenant { body["tenant"] = tenant }
            try await admin.request("POST", "/api/v1/groups", body, fields: groupFields)
        }
    }
    struct List: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Option var tenant: String?
        func run() async throws {
            let q = tenant.map { "?tenant=" + pathComponent($0) } ?? ""
            try await admin.request("GET", "/api/v1/groups" + q, fields: groupFields)
        }
    }
    struct Delete: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        func run() async throws {
            try await admin.request("DELETE", "/api/v1/groups/" + pathComponent(name), fields: ["ok"])
        }
    }
    struct AddUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-user")
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        @Argument var user: String
        func run() async throws {
            try await admin.request(
                "POST", "/api/v1/groups/" + pathComponent(name) + "/members", ["user": user], fields: groupFields)
        }
    }
    struct RemoveUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove-user")
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        @Argument var user: String
        func run() async throws {
            try await admin.request(
                "DELETE", "/api/v1/groups/" + pathComponent(name) + "/members/" + pathComponent(user),
                fields: groupFields)
        }
    }
}

struct PasswordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password", abstract: "Change the password of the user logged in (needs the current one).")
    @OptionGroup var admin: AdminOptions
    @Option(help: "The new password.") var newPassword: String
    func run() async throws {
        let c = try admin.client()
        c.output(
            try await perform(c) {
                try await c.call(
                    "POST", "/api/v1/auth/password", ["current_password": c.password, "new_password": newPassword])
            }, fields: ["ok"])
    }
}

struct GrantTarget: ParsableArguments {
    @Argument var bucket: String
    @Option var user: String?
    @Option var group: String?
    @Option var tenant: String?

    func subject() throws -> (String, String) {
        let given = [("user", user), ("group", group), ("tenant", tenant)].compactMap { k, v in v.map { (k, $0) } }
        guard given.count == 1 else { throw ValidationError("name exactly one of --user, --group, --tenant") }
        return given[0]
    }
}

struct BucketPermissionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bucket-permission", abstract: "Per-bucket grants to users, groups and tenants.",
        subcommands: [Grant.self, Revoke.self, List.self])

    struct Grant: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @OptionGroup var target: GrantTarget
        @Option(help: "read, write or admin") var level: String
        @Option(help: "When the grant lapses (ISO 8601).") var expires: String?
        func run() async throws {
            let (kind, name) = try target.subject()
            var body: [String: Any] = [kind: name, "level": level]
            if let expires { body["expires_at"] = expires }
            try await admin.request(
                "POST", "/api/v1/buckets/" + pathComponent(target.bucket) + "/permissions", body, fields: grantFields)
        }
    }
    struct Revoke: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @OptionGroup var target: GrantTarget
        @Option(help: "Ignored (a subject has one grant per bucket).") var level: String?
        func run() async throws {
            let (kind, name) = try target.subject()
            try await admin.request(
                "DELETE",
                "/api/v1/buckets/" + pathComponent(target.bucket) + "/permissions?\(kind)=" + pathComponent(name),
                fields: ["ok"])
        }
    }
    struct List: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var bucket: String
        func run() async throws {
            try await admin.request(
                "GET", "/api/v1/buckets/" + pathComponent(bucket) + "/permissions", fields: grantFields)
        }
    }
}

struct BucketQuotaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bucket-quota", abstract: "Per-bucket quotas.", subcommands: [Set.self, Show.self])

    struct Set: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var bucket: String
        @Option(help: "Maximum bytes (or with a unit); 0 = unlimited.") var maxBytes: String?
        @Option(help: "Maximum objects; 0 = unlimited.") var maxObjects: Int64?
        func run() async throws {
            var body: [String: Any] = [:]
            if let maxBytes { body["max_bytes"] = try parseBytes(maxBytes) }
            if let maxObjects { body["max_objects"] = maxObjects }
            try await admin.request(
                "PUT", "/api/v1/buckets/" + pathComponent(bucket) + "/quota", body, fields: quotaFields)
        }
    }
    struct Show: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        @Argument var bucket: String
        func run() async throws {
            try await admin.request("GET", "/api/v1/buckets/" + pathComponent(bucket) + "/quota", fields: quotaFields)
        }
    }
}

extension AdminOptions {
    /// Logs in, sends one request and prints the answer (`fields` in text output).
    func request(_ method: String, _ path: String, _ body: [String: Any]? = nil, fields: [String]) async throws {
        let c = try client()
        c.output(try await perform(c) { try await c.call(method, path, body) }, fields: fields)
    }
}

/// Runs a call, turning server and transport errors into a message and exit code 1.
func perform(_ c: AdminClient, _ body: () async throws -> Any) async throws -> Any {
    do {
        return try await body()
    } catch let e as AdminError {
        FileHandle.standardError.write(Data("error: \(e.description)\n".utf8))
        throw ExitCode(1)
    }
}

struct AuditFilterOptions: ParsableArguments {
    @Option(help: "Entries at or after this time (ISO 8601, e.g. 2026-12-01T00:00:00Z).") var since: String?
    @Option(help: "Entries before this time (ISO 8601).") var until: String?
    @Option(help: "Only this user's actions.") var user: String?
    @Option(help: "Only actions of this tenant's users (global administrators).") var tenant: String?
    @Option(help: "Only this action, or a prefix ending in * (user.*).") var action: String?
    @Option(help: "success, failure or denied.") var result: String?

    func query(_ extra: [(String, String)] = []) -> String {
        let items =
            [
                ("since", since), ("until", until), ("user", user), ("tenant", tenant), ("action", action),
                ("result", result),
            ].compactMap { k, v in v.map { (k, $0) } } + extra
        if items.isEmpty { return "" }
        return "?" + items.map { "\($0.0)=\(pathComponent($0.1))" }.joined(separator: "&")
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit log (read only).", subcommands: [List.self, Export.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Audit entries, newest first; the cursor for the next page goes to standard error.")
        @OptionGroup var admin: AdminOptions
        @OptionGroup var filter: AuditFilterOptions
        @Option(help: "Entries per page, 1-1000. Default: 100") var limit: Int?
        @Option(help: "The cursor a previous page printed.") var cursor: String?
        func run() async throws {
            let c = try admin.client()
            var extra: [(String, String)] = []
            if let limit { extra.append(("limit", String(limit))) }
            if let cursor { extra.append(("cursor", cursor)) }
            let page = try await perform(c) { try await c.call("GET", "/api/v1/audit" + filter.query(extra)) }
            let dict = page as? [String: Any] ?? [:]
            if admin.json {
                c.output(page, fields: [])
                return
            }
            c.output(
                dict["entries"] ?? [], fields: ["time", "user", "tenant", "action", "resource", "result", "source_ip"])
            if let next = dict["next_cursor"] as? String {
                FileHandle.standardError.write(Data("next page: --cursor \(next)\n".utf8))
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every matching entry as JSON lines, newest first.")
        @OptionGroup var admin: AdminOptions
        @OptionGroup var filter: AuditFilterOptions
        @Option(help: "Write to this file instead of standard output.") var output: String?
        func run() async throws {
            let c = try admin.client()
            let data = try await perform(c) {
                try await c.session { token in
                    try await c.sendRaw("GET", "/api/v1/audit/export" + filter.query(), nil, token: token)
                }
            }
            guard let data = data as? Data else { return }
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: data) else {
                    FileHandle.standardError.write(Data("error: cannot write \(output)\n".utf8))
                    throw ExitCode(1)
                }
            } else {
                FileHandle.standardOutput.write(data)
            }
        }
    }
}

struct InfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Version, uptime, storage and counts of the running server.")
    @OptionGroup var admin: AdminOptions
    func run() async throws {
        let c = try admin.client()
        let info = try await perform(c) { try await c.call("GET", "/api/v1/info") }
        if admin.json {
            c.output(info, fields: [])
            return
        }
        let d = info as? [String: Any] ?? [:]
        let storage = d["storage"] as? [String: Any] ?? [:]
        let counts = d["counts"] as? [String: Any] ?? [:]
        func t(_ v: Any?) -> String { AdminClient.text(v) }
        print("version: \(t(d["version"]))")
        print("region: \(t(d["region"]))")
        print("started: \(t(d["started_at"])) (up \(t(d["uptime_seconds"])) s)")
        print(
            "storage: \(t(storage["used_bytes"])) bytes stored; file system \(t(storage["available_bytes"])) of \(t(storage["total_bytes"])) bytes available"
        )
        print(
            ["buckets", "objects", "uploads", "tenants", "users", "access_keys"].map { "\($0): \(t(counts[$0]))" }
                .joined(separator: ", "))
    }
}

struct SettingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings", abstract: "Settings: change the runtime ones without a restart.",
        subcommands: [List.self, Set.self, Reset.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        func run() async throws {
            try await admin.request(
                "GET", "/api/v1/settings", fields: ["name", "value", "source", "dynamic", "configured"])
        }
    }
    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a runtime setting now; it is kept across restarts until reset.")
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        @Argument var value: String
        func run() async throws {
            try await admin.request(
                "PUT", "/api/v1/settings/" + pathComponent(name), ["value": value], fields: ["name", "value", "source"])
        }
    }
    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Go back to the value of the configuration (file, environment, flags).")
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        func run() async throws {
            try await admin.request(
                "DELETE", "/api/v1/settings/" + pathComponent(name), fields: ["name", "value", "source"])
        }
    }
}
