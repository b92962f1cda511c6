import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MaxIOCore
import MaxIOIAM
import MaxIOStorage
import NIOCore

/// The JSON API under `/api/v1` that the console and `maxiofs admin` use (documented in docs/api.md).
/// Authentication: `POST /api/v1/auth/login` returns a session token, sent as `Authorization: Bearer <token>`.
package struct ConsoleAPI: Sendable {
    let iam: IAMService
    let metadata: any MetadataStore
    let audit: AuditLog
    let logger: Logger
    /// What `GET /api/v1/info` answers (version, uptime, storage, counts), composed by the server.
    let info: @Sendable () async throws -> [String: any Sendable]
    let settings: SettingsAPI?
    let history: (any MetricsHistoryStore)?
    /// Login attempts by source address.
    let loginLimiter = RateLimiter()
    /// Session cookies carry `Secure` (the console port speaks HTTPS).
    let secureCookies: Bool
    /// The S3 front, for `/api/v1/s3/...` (nil: no gateway).
    let s3: S3Gateway?

    package init(
        iam: IAMService, metadata: any MetadataStore, audit: AuditLog, logger: Logger, settings: SettingsAPI? = nil,
        history: (any MetricsHistoryStore)? = nil, secureCookies: Bool = false, s3: S3Gateway? = nil,
        info: @escaping @Sendable () async throws -> [String: any Sendable] = { [:] }
    ) {
        self.s3 = s3
        self.settings = settings
        self.history = history
        self.secureCookies = secureCookies
        self.iam = iam
        self.metadata = metadata
        self.audit = audit
        self.logger = logger
        self.info = info
    }

    /// A failure with an HTTP status and a stable code.
    struct APIError: Error {
        var status: HTTPResponse.Status
        var code: String
        var message: String
    }

    typealias JSON = [String: any Sendable]

    package func register(on router: Router<ConsoleRequestContext>) {
        let api = router.group("api/v1")
        registerS3Gateway(router)
        api.post("auth/login") { request, context in
            await self.respond { try await self.login(request, context) }
        }
        api.post("auth/login/2fa") { request, context in
            await self.respond { try await self.loginSecondStep(request, context) }
        }
        api.post("auth/logout") { request, context in
            await self.respond {
                if let token = Self.bearer(request) ?? Self.cookie(request, Self.sessionCookie) {
                    if let (actor, _) = try await self.iam.authenticate(token: token) {
                        await self.audit.record(
                            self.entry(actor, context, action: "logout", resource: "users/" + actor.userName))
                    }
                    try await self.iam.logout(token: token)
                }
                var r = Self.json(["ok": true], status: .ok)
                for c in self.clearedCookies() { r.headers.append(HTTPField(name: .setCookie, value: c)) }
                return r
            }
        }
        registerTwoFactor(api)
        registerBuckets(api)
        registerAudit(api)
        registerSettings(api)
        registerMetrics(api)
        authed(api, .get, "info") { _, _, actor, _ in
            guard actor.isGlobalAdmin else {
                throw IAMError.forbidden("Only global administrators read server information.")
            }
            return try await self.info()
        }
        authed(api, .get, "me") { _, _, _, user in
            let u = try await self.userJSON(user)
            return u
        }
        authed(api, .post, "auth/password", audit: "user.password.change", allowPasswordChange: true) {
            request, _, actor, _ in
            let body = try await Self.body(request)
            try await self.iam.changePassword(
                current: try Self.string(body, "current_password"), new: try Self.string(body, "new_password"),
                by: actor, keepSession: Self.bearer(request) ?? Self.cookie(request, Self.sessionCookie))
            return ["ok": true]
        }

        // tenants
        authed(api, .get, "tenants") { _, _, actor, _ in
            var out: [JSON] = []
            for t in try await self.iam.listTenants(by: actor) { out.append(try await self.tenantJSON(t)) }
            return out
        }
        authed(api, .post, "tenants", audit: "tenant.create") { request, _, actor, _ in
            let body = try await Self.body(request)
            let t = try await self.iam.createTenant(
                name: try Self.string(body, "name"), try Self.tenantChanges(body), by: actor)
            return try await self.tenantJSON(t)
        }
        authed(api, .get, "tenants/:name") { _, context, actor, _ in
            try await self.tenantJSON(try await self.iam.tenant(named: try Self.param(context, "name"), by: actor))
        }
        authed(api, .patch, "tenants/:name", audit: "tenant.update") { request, context, actor, _ in
            let body = try await Self.body(request)
            let t = try await self.iam.updateTenant(
                name: try Self.param(context, "name"), try Self.tenantChanges(body), by: actor)
            return try await self.tenantJSON(t)
        }
        authed(api, .delete, "tenants/:name", audit: "tenant.delete") { request, context, actor, _ in
            let force = request.uri.queryParameters.get("force") == "true"
            try await self.iam.deleteTenant(name: try Self.param(context, "name"), force: force, by: actor)
            return ["ok": true]
        }

        // users
        authed(api, .get, "users") { request, _, actor, _ in
            let tenant = request.uri.queryParameters.get("tenant")
            var out: [JSON] = []
            for u in try await self.iam.listUsers(tenantName: tenant, by: actor) {
                out.append(try await self.userJSON(u))
            }
            return out
        }
        authed(api, .post, "users", audit: "user.create") { request, _, actor, _ in
            let body = try await Self.body(request)
            let roleText = (body["role"] as? String) ?? ((body["tenant"] as? String) == nil ? "admin" : "user")
            guard let role = Role(rawValue: roleText) else {
                throw APIError(
                    status: .badRequest, code: "InvalidArgument",
                    message: "role is one of admin, tenant-admin, user, readonly.")
            }
            let u = try await self.iam.createUser(
                name: try Self.string(body, "name"), password: try Self.string(body, "password"),
                tenantName: body["tenant"] as? String, role: role, temporary: (body["temporary"] as? Bool) ?? false,
                by: actor)
            return try await self.userJSON(u)
        }
        authed(api, .get, "users/:name") { _, context, actor, _ in
            try await self.userJSON(try await self.iam.user(named: try Self.param(context, "name"), by: actor))
        }
        authed(api, .patch, "users/:name", audit: "user.update") { request, context, actor, _ in
            let body = try await Self.body(request)
            var c = IAMService.UserChanges()
            c.password = body["password"] as? String
            if let r = body["role"] as? String {
                guard let role = Role(rawValue: r) else {
                    throw APIError(
                        status: .badRequest, code: "InvalidArgument",
                        message: "role is one of admin, tenant-admin, user, readonly.")
                }
                c.role = role
            }
            if let s = body["status"] as? String {
                guard let status = AccountStatus(rawValue: s) else {
                    throw APIError(
                        status: .badRequest, code: "InvalidArgument", message: "status is active or disabled.")
                }
                c.status = status
            }
            c.displayName = body["display_name"] as? String
            c.temporary = body["temporary"] as? Bool
            c.unlock = (body["unlock"] as? Bool) ?? false
            return try await self.userJSON(
                try await self.iam.updateUser(name: try Self.param(context, "name"), c, by: actor))
        }
        authed(api, .delete, "users/:name", audit: "user.delete") { _, context, actor, _ in
            try await self.iam.deleteUser(name: try Self.param(context, "name"), by: actor)
            return ["ok": true]
        }

        // access keys
        authed(api, .get, "access-keys") { request, _, actor, _ in
            let user = request.uri.queryParameters.get("user")
            var out: [JSON] = []
            for (k, u) in try await self.iam.listAccessKeys(userName: user, by: actor) {
                out.append(try await self.keyJSON(k, u))
            }
            return out
        }
        authed(api, .post, "access-keys", audit: "key.create") { request, _, actor, me in
            let body = try await Self.body(request)
            let (k, secret) = try await self.iam.createAccessKey(
                userName: (body["user"] as? String) ?? me.name, by: actor)
            guard let u = try await self.iam.store.user(id: k.userID) else {
                throw APIError(status: .notFound, code: "NotFound", message: "No such user.")
            }
            var json = try await self.keyJSON(k, u)
            json["secret_access_key"] = secret
            return json
        }
        authed(api, .patch, "access-keys/:id", audit: "key.update") { request, context, actor, _ in
            let body = try await Self.body(request)
            let id = try Self.param(context, "id")
            guard let status = body["status"] as? String, status == "active" || status == "disabled" else {
                throw APIError(status: .badRequest, code: "InvalidArgument", message: "status is active or disabled.")
            }
            try await self.iam.setAccessKeyStatus(id: id, active: status == "active", by: actor)
            let (k, u) = try await self.iam.accessKey(id: id, by: actor)
            return try await self.keyJSON(k, u)
        }
        authed(api, .delete, "access-keys/:id", audit: "key.delete") { _, context, actor, _ in
            try await self.iam.deleteAccessKey(id: try Self.param(context, "id"), by: actor)
            return ["ok": true]
        }

        // groups
        authed(api, .get, "groups") { request, _, actor, _ in
            var out: [JSON] = []
            for g in try await self.iam.listGroups(tenantName: request.uri.queryParameters.get("tenant"), by: actor) {
                out.append(try await self.groupJSON(g))
            }
            return out
        }
        authed(api, .post, "groups", audit: "group.create") { request, _, actor, _ in
            let body = try await Self.body(request)
            let g = try await self.iam.createGroup(
                name: try Self.string(body, "name"), tenantName: body["tenant"] as? String, by: actor)
            return try await self.groupJSON(g)
        }
        authed(api, .get, "groups/:name") { _, context, actor, _ in
            try await self.groupJSON(try await self.iam.group(named: try Self.param(context, "name"), by: actor))
        }
        authed(api, .delete, "groups/:name", audit: "group.delete") { _, context, actor, _ in
            try await self.iam.deleteGroup(name: try Self.param(context, "name"), by: actor)
            return ["ok": true]
        }
        authed(api, .post, "groups/:name/members", audit: "group.member.add") { request, context, actor, _ in
            let body = try await Self.body(request)
            let name = try Self.param(context, "name")
            try await self.iam.setGroupMember(
                group: name, userName: try Self.string(body, "user"), member: true, by: actor)
            return try await self.groupJSON(try await self.iam.group(named: name, by: actor))
        }
        authed(api, .delete, "groups/:name/members/:user", audit: "group.member.remove") { _, context, actor, _ in
            let name = try Self.param(context, "name")
            try await self.iam.setGroupMember(
                group: name, userName: try Self.param(context, "user"), member: false, by: actor)
            return try await self.groupJSON(try await self.iam.group(named: name, by: actor))
        }

        // bucket permissions and quotas
        authed(api, .get, "buckets/:bucket/permissions") { _, context, actor, _ in
            let b = try await self.visibleBucket(try Self.param(context, "bucket"), actor)
            var out: [JSON] = []
            for g in try await self.iam.store.grants(bucket: b.name) { out.append(try await self.grantJSON(g)) }
            return out
        }
        authed(api, .post, "buckets/:bucket/permissions", audit: "bucket.permission.grant") {
            request, context, actor, _ in
            let b = try await self.managedBucket(try Self.param(context, "bucket"), actor)
            let body = try await Self.body(request)
            let subject = try await self.subject(body, actor)
            guard let level = (body["level"] as? String).flatMap(AccessLevel.init(rawValue:)) else {
                throw APIError(status: .badRequest, code: "InvalidArgument", message: "level is read, write or admin.")
            }
            var expires: Date?
            if let raw = body["expires_at"] {
                guard let e = raw as? String, let d = WireDate.parseISO8601(e) else {
                    throw APIError(
                        status: .badRequest, code: "InvalidArgument", message: "expires_at is an ISO 8601 time.")
                }
                expires = d
            }
            let g = BucketGrant(bucket: b.name, subject: subject, level: level, expiresAt: expires)
            try await self.iam.store.grant(g)
            self.iam.invalidate()
            return try await self.grantJSON(g)
        }
        authed(api, .delete, "buckets/:bucket/permissions", audit: "bucket.permission.revoke") {
            request, context, actor, _ in
            let b = try await self.managedBucket(try Self.param(context, "bucket"), actor)
            var body: JSON = [:]
            for kind in ["user", "group", "tenant"] {
                if let v = request.uri.queryParameters.get(kind) { body[kind] = v }
            }
            if body.isEmpty { body = try await Self.body(request) }
            try await self.iam.store.revoke(
                bucket: b.name, subject: try await self.subject(body, actor, revoking: true))
            self.iam.invalidate()
            return ["ok": true]
        }
        authed(api, .get, "buckets/:bucket/quota") { _, context, actor, _ in
            Self.quotaJSON(try await self.visibleBucket(try Self.param(context, "bucket"), actor))
        }
        authed(api, .put, "buckets/:bucket/quota", audit: "bucket.quota.set") { request, context, actor, _ in
            let name = try Self.param(context, "bucket")
            let b = try await self.visibleBucket(name, actor)
            // Quotas are the provider's limits: a global administrator or the tenant's administrator sets them.
            guard actor.isGlobalAdmin || (actor.role == .tenantAdmin && actor.tenantID == b.tenant && !b.tenant.isEmpty)
            else { throw IAMError.forbidden("Only administrators set bucket quotas.") }
            let body = try await Self.body(request)
            let maxBytes = try Self.int(body, "max_bytes") ?? b.maxBytes
            let maxObjects = try Self.int(body, "max_objects") ?? b.maxObjects
            guard maxBytes >= 0, maxObjects >= 0 else {
                throw APIError(status: .badRequest, code: "InvalidArgument", message: "Quotas are 0 or positive.")
            }
            try await self.metadata.setBucketQuota(bucket: name, maxBytes: maxBytes, maxObjects: maxObjects)
            return Self.quotaJSON(try await self.visibleBucket(name, actor))
        }
    }

    // MARK: plumbing

    /// Registers a route that needs a session; `handler` returns a JSON object or array. A route with an
    /// `audit` action records each call that got past authentication, with its outcome.
    func authed(
        _ group: RouterGroup<ConsoleRequestContext>, _ method: HTTPRequest.Method, _ path: String,
        audit action: String? = nil, allowPasswordChange: Bool = false,
        _ handler:
            @escaping @Sendable (Request, ConsoleRequestContext, Principal, UserRecord) async throws -> any Sendable
    ) {
        group.on(RouterPath(path), method: method) { request, context in
            await self.handle {
                let (actor, user) = try await self.session(
                    request, allowPasswordChange: allowPasswordChange || (method == .get && path == "me"))
                guard let action else { return try await handler(request, context, actor, user) }
                // Keep the body: the handler reads it, and the entry names the fields it set.
                let buffer = try await request.body.collect(upTo: 1 << 20)
                var request = request
                request.body = RequestBody(buffer: buffer)
                let resource = String(request.uri.path.dropFirst("/api/v1/".count))
                var entry = self.entry(
                    actor, context, action: action, resource: PercentEncoding.decode(resource) ?? resource)
                entry.detail = Self.auditDetail(buffer)
                // Query parameters say what a DELETE acts on (`?user=`, `?force=true`).
                var query: [String: String] = [:]
                for (k, v) in request.uri.queryParameters { query[String(k)] = String(v) }
                if !query.isEmpty { entry.detail = Self.mergeDetail(entry.detail, Self.redacted(query)) }
                // A creation names what it created (the key id is known only once it exists).
                let created = method == .post && !resource.contains("/")
                if created, let name = Self.auditName(buffer) { entry.resource += "/" + name }
                do {
                    let result = try await handler(request, context, actor, user)
                    if created, entry.resource == resource, let json = result as? JSON,
                        let id = json["access_key_id"] as? String
                    {
                        entry.resource += "/" + id
                    }
                    await self.audit.record(entry)
                    return result
                } catch {
                    let e = self.apiError(error)
                    entry.result = e.code == "AccessDenied" ? "denied" : "failure"
                    entry.detail = Self.mergeDetail(entry.detail, ["error": e.code])
                    await self.audit.record(entry)
                    throw e
                }
            }
        }
    }

    /// The session's user, or 401; 403 while a temporary password waits to be changed.
    func session(_ request: Request, allowPasswordChange: Bool = false) async throws -> (Principal, UserRecord) {
        var token = Self.bearer(request)
        if token == nil, let cookie = Self.cookie(request, Self.sessionCookie) {
            // A browser's session: a state-changing call must prove it comes from the console's own page.
            if ![.get, .head, .options].contains(request.method) {
                guard let sent = request.headers[Self.csrfHeader], constantTimeEqual(sent, Self.csrfToken(cookie))
                else {
                    throw APIError(
                        status: .forbidden, code: "CSRFTokenMissing",
                        message: "Send the X-CSRF-Token header the login answered with.")
                }
            }
            token = cookie
        }
        guard let token, let (actor, user) = try await iam.authenticate(token: token) else {
            throw APIError(
                status: .unauthorized, code: "Unauthorized",
                message: "Log in first (the session is missing or expired).")
        }
        if user.mustChangePassword && !allowPasswordChange {
            throw APIError(
                status: .forbidden, code: "PasswordChangeRequired",
                message: "This account has a temporary password: change it first (POST /api/v1/auth/password).")
        }
        return (actor, user)
    }

    func entry(_ actor: Principal, _ context: ConsoleRequestContext, action: String, resource: String) -> AuditEntry {
        AuditEntry(
            actor: actor.userName, actorID: actor.userID, tenantID: actor.tenantID, tenantName: actor.tenantName,
            sourceIP: context.remoteIP, action: action, resource: resource, result: "success")
    }

    /// The request body's fields as audit detail, secrets left out.
    static func auditDetail(_ buffer: ByteBuffer) -> String? {
        guard buffer.readableBytes > 0,
            let obj = try? JSONDecoder().decode([String: Scalar].self, from: Data(buffer.readableBytesView))
        else { return nil }
        var fields: [String: String] = [:]
        for (k, v) in obj {
            let lower = k.lowercased()
            if lower.contains("password") || lower.contains("secret") || lower.contains("token")
                || lower.contains("code")
            {
                fields[k] = "(set)"
                continue
            }
            switch v {
            case .bool(let b): fields[k] = b ? "true" : "false"
            case .int(let n): fields[k] = String(n)
            case .string(let t): fields[k] = t
            case .null: fields[k] = "null"
            }
        }
        return AuditLog.detail(fields)
    }

    static func auditName(_ buffer: ByteBuffer) -> String? {
        guard buffer.readableBytes > 0,
            let obj = try? JSONDecoder().decode([String: Scalar].self, from: Data(buffer.readableBytesView)),
            case .string(let name)? = obj["name"], !name.isEmpty
        else { return nil }
        return name
    }

    /// Secrets replaced by "(set)".
    static func redacted(_ fields: [String: String]) -> [String: String] {
        var out = fields
        for k in fields.keys {
            let lower = k.lowercased()
            if lower.contains("password") || lower.contains("secret") || lower.contains("token")
                || lower.contains("code")
            {
                out[k] = "(set)"
            }
        }
        return out
    }

    static func mergeDetail(_ detail: String?, _ extra: [String: String]) -> String? {
        var fields: [String: String] = [:]
        if let d = detail, let obj = try? JSONDecoder().decode([String: String].self, from: Data(d.utf8)) {
            fields = obj
        }
        fields.merge(extra) { _, new in new }
        return AuditLog.detail(fields)
    }

    /// As `handle`, for a handler that builds its own response (headers such as cookies).
    func respond(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch {
            let e = apiError(error)
            return Self.error(e.status, e.code, e.message)
        }
    }

    func handle(_ body: () async throws -> any Sendable) async -> Response {
        do {
            let value = try await body()
            return Self.json(value, status: .ok)
        } catch {
            let e = apiError(error)
            return Self.error(e.status, e.code, e.message)
        }
    }

    /// The one translation of errors into API errors.
    func apiError(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as HTTPError where e.status == .contentTooLarge:
            return APIError(
                status: .contentTooLarge, code: "RequestTooLarge", message: "The request body is larger than 1 MiB.")
        case is NIOTooManyBytesError:
            return APIError(
                status: .contentTooLarge, code: "RequestTooLarge", message: "The request body is larger than 1 MiB.")
        case let e as IAMError:
            switch e {
            case .notFound(let m): return APIError(status: .notFound, code: "NotFound", message: m)
            case .alreadyExists(let m): return APIError(status: .conflict, code: "AlreadyExists", message: m)
            case .quotaExceeded(let m): return APIError(status: .forbidden, code: "QuotaExceeded", message: m)
            case .invalid(let m): return APIError(status: .badRequest, code: "InvalidArgument", message: m)
            case .forbidden(let m): return APIError(status: .forbidden, code: "AccessDenied", message: m)
            case .notEmpty(let m): return APIError(status: .conflict, code: "NotEmpty", message: m)
            }
        case let e as StorageError where e == .noSuchBucket:
            return APIError(status: .notFound, code: "NoSuchBucket", message: "The bucket does not exist.")
        case is LoginRefused:
            return APIError(status: .forbidden, code: "AccessDenied", message: "Invalid username or password.")
        default:
            logger.error("console API error", metadata: ["error": "\(String(reflecting: error))"])
            return APIError(
                status: .internalServerError, code: "InternalError", message: "Something went wrong on the server.")
        }
    }

    static func json(_ value: any Sendable, status: HTTPResponse.Status) -> Response {
        let data =
            (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(["error": ["code": code, "message": message]], status: status)
    }

    static let sessionCookie = "maxiofs_session"
    static let csrfCookie = "maxiofs_csrf"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    /// The CSRF token of a session: derived from its token, so nothing more is stored and it dies with it.
    static func csrfToken(_ sessionToken: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("maxiofs-csrf".utf8), using: SymmetricKey(data: Array(sessionToken.utf8)))
        return Hex.encode(Array(mac))
    }

    /// A cookie of the request.
    static func cookie(_ request: Request, _ name: String) -> String? {
        for field in request.headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0].trimmingSpaces() == name {
                    let v = kv[1].trimmingSpaces()
                    return v.isEmpty ? nil : v
                }
            }
        }
        return nil
    }

    func clearedCookies() -> [String] {
        let secure = secureCookies ? "; Secure" : ""
        return [
            "\(Self.sessionCookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict\(secure)",
            "\(Self.csrfCookie)=; Path=/; Max-Age=0; SameSite=Strict\(secure)",
        ]
    }

    static func bearer(_ request: Request) -> String? {
        guard let h = request.headers[.authorization], h.hasPrefix("Bearer ") else { return nil }
        let token = String(h.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    static func body(_ request: Request) async throws -> JSON {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        if buffer.readableBytes == 0 { return [:] }
        guard let obj = try? JSONDecoder().decode([String: Scalar].self, from: Data(buffer.readableBytesView)) else {
            throw APIError(
                status: .badRequest, code: "InvalidJSON", message: "The body must be a JSON object of plain values.")
        }
        var out: JSON = [:]
        for (k, v) in obj {
            switch v {
            case .bool(let b): out[k] = b
            case .int(let n): out[k] = n
            case .string(let t): out[k] = t
            case .null: break
            }
        }
        return out
    }

    /// A JSON value of a request body (objects and arrays are not taken).
    enum Scalar: Decodable {
        case bool(Bool)
        case int(Int64)
        case string(String)
        case null

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() {
                self = .null
            } else if let b = try? c.decode(Bool.self) {
                self = .bool(b)
            } else if let n = try? c.decode(Int64.self) {
                self = .int(n)
            } else {
                self = .string(try c.decode(String.self))
            }
        }
    }

    static func string(_ body: JSON, _ key: String) throws -> String {
        guard let v = body[key] as? String, !v.isEmpty else {
            throw APIError(status: .badRequest, code: "InvalidArgument", message: "\(key) is required.")
        }
        return v
    }

    static func int(_ body: JSON, _ key: String) throws -> Int64? {
        guard let v = body[key] else { return nil }
        if let n = v as? Int64 { return n }
        if let s = v as? String, let n = Int64(s) { return n }
        throw APIError(status: .badRequest, code: "InvalidArgument", message: "\(key) must be an integer.")
    }

    static func param(_ context: ConsoleRequestContext, _ name: String) throws -> String {
        guard let v = context.parameters.get(name) else {
            throw APIError(status: .badRequest, code: "InvalidArgument", message: "\(name) is missing.")
        }
        return PercentEncoding.decode(String(v)) ?? String(v)
    }

    static func tenantChanges(_ body: JSON) throws -> IAMService.TenantChanges {
        var c = IAMService.TenantChanges()
        c.maxStorageBytes = try int(body, "max_storage_bytes")
        c.maxBuckets = try int(body, "max_buckets")
        c.maxAccessKeys = try int(body, "max_access_keys")
        if let s = body["status"] as? String {
            guard let status = AccountStatus(rawValue: s) else {
                throw APIError(status: .badRequest, code: "InvalidArgument", message: "status is active or suspended.")
            }
            c.status = status
        }
        return c
    }

    static func iso(_ d: Date?) -> any Sendable {
        guard let d else { return NSNull() }
        return WireDate.iso8601(d)
    }

    func login(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let body = try await Self.body(request)
        let username = try Self.string(body, "username")
        // Failed logins from one address are limited (a token each); while none is left, every login from it
        // is refused before the password is checked. Successful logins cost nothing.
        let perMinute = Double(iam.settings.values.failedLoginsPerMinute)
        let limitKey = "login:" + (context.remoteIP ?? "")
        if perMinute > 0 {
            let wait = loginLimiter.wait(limitKey, rate: perMinute / 60)
            if wait > 0 {
                await audit.record(
                    AuditEntry(
                        actor: username, sourceIP: context.remoteIP, action: "login", resource: "users/" + username,
                        result: "denied",
                        detail: AuditLog.detail(["reason": "too many failed logins from this address"])))
                throw APIError(
                    status: .tooManyRequests, code: "TooManyRequests",
                    message:
                        "Too many failed logins from this address. Try again in \(max(Int(wait.rounded(.up)), 1)) seconds."
                )
            }
        }
        let outcome: IAMService.LoginOutcome
        do {
            outcome = try await iam.login(username: username, password: try Self.string(body, "password"))
        } catch let refused as LoginRefused {
            if perMinute > 0 { _ = loginLimiter.allow(limitKey, rate: perMinute / 60, burst: perMinute) }
            let user = refused.user
            var tenantName: String?
            if let t = user?.tenantID { tenantName = try? await iam.store.tenant(id: t)?.name }
            await audit.record(
                AuditEntry(
                    actor: username, actorID: user?.id, tenantID: user?.tenantID, tenantName: tenantName,
                    sourceIP: context.remoteIP, action: "login", resource: "users/" + username, result: "failure",
                    detail: AuditLog.detail(["reason": refused.reason])))
            throw refused
        }
        switch outcome {
        case .secondFactor(let challenge, let expiresAt, _):
            // The password was right; the session comes with the code (POST /api/v1/auth/login/2fa).
            return Self.json(
                ["two_factor_required": true, "challenge": challenge, "expires_at": WireDate.iso8601(expiresAt)]
                    as JSON,
                status: .ok)
        case .session(let session):
            return try await sessionResponse(session, context, secondFactor: false)
        }
    }

    /// `POST /api/v1/auth/login/2fa` `{"challenge", "code"}` (a TOTP code or a backup code).
    func loginSecondStep(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let body = try await Self.body(request)
        let challenge = try Self.string(body, "challenge")
        let code = try Self.string(body, "code")
        do {
            return try await sessionResponse(
                try await iam.completeLogin(challenge: challenge, code: code), context, secondFactor: true)
        } catch let refused as LoginRefused {
            let user = refused.user
            var tenantName: String?
            if let t = user?.tenantID { tenantName = try? await iam.store.tenant(id: t)?.name }
            await audit.record(
                AuditEntry(
                    actor: user?.name ?? "unknown", actorID: user?.id, tenantID: user?.tenantID, tenantName: tenantName,
                    sourceIP: context.remoteIP, action: "login", resource: "users/" + (user?.name ?? "unknown"),
                    result: "failure", detail: AuditLog.detail(["reason": refused.reason])))
            throw APIError(
                status: .forbidden, code: "AccessDenied",
                message: "The code is not right, or the login took too long: log in again.")
        }
    }

    /// A new session: the token in the body (API clients) and in an HttpOnly cookie (the console), with the
    /// CSRF token the console sends back on state-changing calls.
    func sessionResponse(_ session: IAMService.Session, _ context: ConsoleRequestContext, secondFactor: Bool)
        async throws -> Response
    {
        var tenantName: String?
        if let t = session.user.tenantID { tenantName = try await iam.store.tenant(id: t)?.name }
        await audit.record(
            AuditEntry(
                actor: session.user.name, actorID: session.user.id, tenantID: session.user.tenantID,
                tenantName: tenantName, sourceIP: context.remoteIP, action: "login",
                resource: "users/" + session.user.name, result: "success",
                detail: secondFactor ? AuditLog.detail(["second_factor": "true"]) : nil))
        var user = try await userJSON(session.user)
        user["must_change_password"] = session.user.mustChangePassword
        let csrf = Self.csrfToken(session.token)
        var r = Self.json(
            [
                "token": session.token, "expires_at": WireDate.iso8601(session.expiresAt), "user": user,
                "csrf_token": csrf,
            ] as JSON, status: .ok)
        let maxAge = max(0, Int(session.expiresAt.timeIntervalSinceNow))
        let secure = secureCookies ? "; Secure" : ""
        r.headers.append(
            HTTPField(
                name: .setCookie,
                value:
                    "\(Self.sessionCookie)=\(session.token); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict\(secure)"
            ))
        r.headers.append(
            HTTPField(
                name: .setCookie,
                value: "\(Self.csrfCookie)=\(csrf); Path=/; Max-Age=\(maxAge); SameSite=Strict\(secure)"))
        return r
    }

    func tenantJSON(_ t: TenantRecord) async throws -> JSON {
        let u = try await iam.store.tenantUsage(id: t.id)
        return [
            "id": t.id, "name": t.name, "status": t.status.rawValue, "max_storage_bytes": t.maxStorageBytes,
            "max_buckets": t.maxBuckets, "max_access_keys": t.maxAccessKeys, "used_bytes": u.bytes,
            "object_count": u.objects, "bucket_count": u.buckets, "access_key_count": u.accessKeys,
            "created_at": WireDate.iso8601(t.createdAt),
        ]
    }

    func tenantName(_ id: String?) async throws -> any Sendable {
        guard let id else { return NSNull() }
        return try await iam.store.tenant(id: id)?.name ?? id
    }

    func userJSON(_ u: UserRecord) async throws -> JSON {
        [
            "id": u.id, "name": u.name, "tenant": try await tenantName(u.tenantID), "role": u.role.rawValue,
            "status": u.status.rawValue, "display_name": u.displayName, "created_at": WireDate.iso8601(u.createdAt),
            "must_change_password": u.mustChangePassword, "two_factor": u.totpSecret != nil,
            "locked": (u.lockedUntil.map { $0 > Date() }) ?? false,
        ]
    }

    func keyJSON(_ k: AccessKeyRecord, _ u: UserRecord) async throws -> JSON {
        [
            "access_key_id": k.id, "user_id": u.id, "user": u.name, "display_name": u.displayName,
            "tenant": try await tenantName(u.tenantID), "status": k.status.rawValue,
            "created_at": WireDate.iso8601(k.createdAt), "last_used": Self.iso(k.lastUsed),
        ]
    }

    func groupJSON(_ g: GroupRecord) async throws -> JSON {
        var members: [String] = []
        for id in g.members { members.append(try await iam.store.user(id: id)?.name ?? id) }
        return [
            "name": g.name, "tenant": try await tenantName(g.tenantID), "members": members,
            "created_at": WireDate.iso8601(g.createdAt),
        ]
    }

    func grantJSON(_ g: BucketGrant) async throws -> JSON {
        [
            "bucket": g.bucket, g.subject.kind: try await iam.subjectName(g.subject), "level": g.level.rawValue,
            "expires_at": Self.iso(g.expiresAt),
        ]
    }

    static func quotaJSON(_ b: BucketRecord) -> JSON {
        [
            "bucket": b.name, "max_bytes": b.maxBytes, "max_objects": b.maxObjects, "used_bytes": b.usedBytes,
            "object_count": b.objectCount,
        ]
    }

    func subject(_ body: JSON, _ actor: Principal, revoking: Bool = false) async throws -> GrantSubject {
        for kind in ["user", "group", "tenant"] {
            if let name = body[kind] as? String {
                return try await iam.grantSubject(kind: kind, name: name, by: actor, revoking: revoking)
            }
        }
        throw APIError(status: .badRequest, code: "InvalidArgument", message: "Name a user, a group or a tenant.")
    }

    /// A bucket the actor may see (global administrators: any; others: their tenant's).
    func visibleBucket(_ name: String, _ actor: Principal) async throws -> BucketRecord {
        guard let b = try await metadata.bucket(name),
            actor.isGlobalAdmin || (!b.tenant.isEmpty && b.tenant == actor.tenantID) || b.owner == actor.userID
        else { throw IAMError.notFound("No bucket \(name).") }
        return b
    }

    /// A bucket whose grants the actor may change.
    func managedBucket(_ name: String, _ actor: Principal) async throws -> BucketRecord {
        let b = try await visibleBucket(name, actor)
        guard iam.canGrant(bucketTenant: b.tenant.isEmpty ? nil : b.tenant, by: actor) else {
            throw IAMError.forbidden("You may not change this bucket's permissions.")
        }
        return b
    }
}
