import Foundation
import Hummingbird
import MaxIOCore
import MaxIOIAM
import MaxIOStorage

extension ConsoleAPI {
    /// Two-factor authentication of the session's own user, and an administrator's reset for others.
    func registerTwoFactor(_ api: RouterGroup<ConsoleRequestContext>) {
        authed(api, .get, "auth/2fa") { _, _, actor, _ in
            let s = try await self.iam.twoFactorStatus(by: actor)
            return ["enabled": s.enabled, "backup_codes_left": s.backupCodesLeft] as JSON
        }
        authed(api, .post, "auth/2fa/setup", audit: "user.2fa.setup") { _, _, actor, _ in
            let (secret, uri) = try await self.iam.beginTwoFactorSetup(by: actor)
            return ["secret": secret, "otpauth_uri": uri] as JSON
        }
        authed(api, .post, "auth/2fa/enable", audit: "user.2fa.enable") { request, _, actor, _ in
            let body = try await Self.body(request)
            let codes = try await self.iam.enableTwoFactor(code: try Self.string(body, "code"), by: actor)
            return ["enabled": true, "backup_codes": codes] as JSON
        }
        authed(api, .post, "auth/2fa/disable", audit: "user.2fa.disable") { request, _, actor, _ in
            let body = try await Self.body(request)
            try await self.iam.disableTwoFactor(
                password: body["password"] as? String, code: body["code"] as? String, by: actor)
            return ["enabled": false] as JSON
        }
        authed(api, .post, "auth/2fa/backup-codes", audit: "user.2fa.backup-codes") { request, _, actor, _ in
            let body = try await Self.body(request)
            let codes = try await self.iam.regenerateBackupCodes(
                password: body["password"] as? String, code: body["code"] as? String, by: actor)
            return ["backup_codes": codes] as JSON
        }
        authed(api, .delete, "users/:name/2fa", audit: "user.2fa.reset") { _, context, actor, _ in
            try await self.iam.resetTwoFactor(userName: try Self.param(context, "name"), by: actor)
            return ["ok": true] as JSON
        }
    }
}
