import Foundation
import HTTPTypes
import Hummingbird
import MaxIOCore
import MaxIOIAM
import MaxIOStorage

/// `GET /api/v1/settings` lists every setting: the runtime ones with their current and configured values,
/// the others (fixed until a restart) as they were read at start-up, secrets masked.
/// `PUT /api/v1/settings/{name}` `{"value": "..."}` changes a runtime setting at once and keeps it in the
/// catalog across restarts; `DELETE` goes back to the configured value. Global administrators only.
package struct SettingsAPI: Sendable {
    package let runtime: RuntimeSettings
    package let store: any SettingsStore
    /// The settings that need a restart: name, value as printed by `config print`, meaning.
    package let fixed: [(name: String, value: String, help: String)]

    package init(
        runtime: RuntimeSettings, store: any SettingsStore, fixed: [(name: String, value: String, help: String)]
    ) {
        self.runtime = runtime
        self.store = store
        self.fixed = fixed
    }

    /// Applies the stored values at start-up; a stored value that no longer parses is dropped with a warning.
    package func applyStored() async throws -> [String] {
        var problems: [String] = []
        for (name, value) in try await store.storedSettings() {
            if let problem = runtime.set(name, to: value) {
                problems.append("\(name) = '\(value)' from the catalog ignored: \(problem)")
                try await store.deleteSetting(name: name)
            }
        }
        return problems
    }
}

extension ConsoleAPI {
    func registerSettings(_ api: RouterGroup<ConsoleRequestContext>) {
        guard let settings else { return }
        authed(api, .get, "settings") { _, _, actor, _ in
            try Self.requireGlobalAdmin(actor)
            let stored = try await settings.store.storedSettings()
            let now = settings.runtime.values
            var out: [JSON] = []
            for d in RuntimeSettings.definitions {
                out.append([
                    "name": d.name, "value": d.show(now), "configured": d.show(settings.runtime.configured),
                    "source": stored[d.name] == nil ? "configuration" : "runtime", "dynamic": true,
                    "description": d.help,
                ])
            }
            for f in settings.fixed {
                out.append([
                    "name": f.name, "value": f.value, "source": "configuration", "dynamic": false,
                    "restart_required": true, "description": f.help,
                ])
            }
            return out
        }
        authed(api, .put, "settings/:name", audit: "settings.update") { request, context, actor, _ in
            try Self.requireGlobalAdmin(actor)
            let name = try Self.param(context, "name")
            try Self.requireRuntime(name, settings)
            let body = try await Self.body(request)
            let value: String
            switch body["value"] {
            case let s as String: value = s
            case let n as Int64: value = String(n)
            case let b as Bool: value = b ? "true" : "false"
            default:
                throw APIError(status: .badRequest, code: "InvalidArgument", message: "value is required.")
            }
            if let problem = settings.runtime.set(name, to: value) {
                throw APIError(status: .badRequest, code: "InvalidArgument", message: "\(name): \(problem)")
            }
            let shown = RuntimeSettings.definitions.first { $0.name == name }!.show(settings.runtime.values)
            try await settings.store.storeSetting(name: name, value: shown, by: actor.userName)
            return ["name": name, "value": shown, "source": "runtime"] as JSON
        }
        authed(api, .delete, "settings/:name", audit: "settings.reset") { _, context, actor, _ in
            try Self.requireGlobalAdmin(actor)
            let name = try Self.param(context, "name")
            try Self.requireRuntime(name, settings)
            try await settings.store.deleteSetting(name: name)
            settings.runtime.reset(name)
            let shown = RuntimeSettings.definitions.first { $0.name == name }!.show(settings.runtime.values)
            return ["name": name, "value": shown, "source": "configuration"] as JSON
        }
    }

    static func requireGlobalAdmin(_ actor: Principal) throws {
        guard actor.isGlobalAdmin else { throw IAMError.forbidden("Only global administrators manage settings.") }
    }

    static func requireRuntime(_ name: String, _ settings: SettingsAPI) throws {
        guard RuntimeSettings.definitions.contains(where: { $0.name == name }) else {
            if settings.fixed.contains(where: { $0.name == name }) {
                throw APIError(
                    status: .conflict, code: "RestartRequired",
                    message: "\(name) is read at start-up: change it in the configuration and restart.")
            }
            throw IAMError.notFound("No setting \(name).")
        }
    }
}
