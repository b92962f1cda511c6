import Foundation
import HTTPTypes
import Hummingbird
import MaxIOCore
import MaxIOIAM
import MaxIOS3
import MaxIOStorage

extension HTTPField.Name {
    static let amzLockMode = HTTPField.Name("x-amz-object-lock-mode")!
    static let amzLockRetainUntil = HTTPField.Name("x-amz-object-lock-retain-until-date")!
    static let amzLockLegalHold = HTTPField.Name("x-amz-object-lock-legal-hold")!
    static let amzBypassGovernance = HTTPField.Name("x-amz-bypass-governance-retention")!
    static let amzBucketObjectLockEnabled = HTTPField.Name("x-amz-bucket-object-lock-enabled")!
}

extension S3API {
    /// The Object Lock headers of a write (PutObject, CopyObject, CreateMultipartUpload), checked as AWS does.
    func lockHeaders(_ call: S3Call, now: Date = Date()) throws -> (mode: LockMode?, until: Date?, legalHold: Bool) {
        let modeText = call.header(.amzLockMode)
        let untilText = call.header(.amzLockRetainUntil)
        var mode: LockMode?
        var until: Date?
        if modeText != nil || untilText != nil {
            guard let modeText, let untilText else {
                throw S3Error(
                    .InvalidArgument,
                    "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied")
            }
            guard let m = LockMode(rawValue: modeText) else {
                throw S3Error(.InvalidArgument, "Unknown wormMode directive.")
            }
            guard let d = WireDate.parseHTTP(untilText) else {
                throw S3Error(.InvalidArgument, "The retain until date must be provided in ISO 8601 format")
            }
            guard d > now else { throw S3Error(.InvalidArgument, "The retain until date must be in the future!") }
            mode = m
            until = d
        }
        var hold = false
        if let h = call.header(.amzLockLegalHold) {
            switch h {
            case "ON": hold = true
            case "OFF": hold = false
            default: throw S3Error(.InvalidArgument, "Legal Hold must be either of 'ON' or 'OFF'")
            }
        }
        return (mode, until, hold)
    }

    func applyLockHeaders(_ call: S3Call, to meta: inout ObjectMeta) throws {
        let lock = try lockHeaders(call)
        meta.lockMode = lock.mode
        meta.lockRetainUntil = lock.until
        meta.legalHold = lock.legalHold
    }

    /// `x-amz-bypass-governance-retention: true`, from a caller allowed s3:BypassGovernanceRetention.
    func bypassesGovernance(_ call: S3Call) -> Bool {
        call.header(.amzBypassGovernance)?.lowercased() == "true"
            && allowsInBucket(call, action: "s3:BypassGovernanceRetention", key: call.key)
    }

    /// GET/HEAD headers of a locked version.
    func addLockHeaders(_ headers: inout HTTPFields, _ meta: ObjectMeta) {
        if let mode = meta.lockMode, let until = meta.lockRetainUntil {
            headers[.amzLockMode] = mode.rawValue
            headers[.amzLockRetainUntil] = WireDate.iso8601(until)
        }
        if meta.legalHold { headers[.amzLockLegalHold] = "ON" }
    }

    // MARK: Get/PutObjectLockConfiguration

    func getObjectLockConfiguration(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        guard let lock = b.objectLock, lock.enabled else {
            throw S3Error(
                .ObjectLockConfigurationNotFoundError, "Object Lock configuration does not exist for this bucket",
                extra: [("BucketName", b.name)])
        }
        var w = XMLWriter()
        w.open("ObjectLockConfiguration")
        w.element("ObjectLockEnabled", "Enabled")
        if let mode = lock.defaultMode {
            w.open("Rule", namespace: nil)
            w.open("DefaultRetention", namespace: nil)
            w.element("Mode", mode.rawValue)
            if let d = lock.defaultDays { w.element("Days", d) }
            if let y = lock.defaultYears { w.element("Years", y) }
            w.close("DefaultRetention")
            w.close("Rule")
        }
        w.close("ObjectLockConfiguration")
        return xmlResponse(w.finish())
    }

    func putObjectLockConfiguration(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        guard let doc = try await readXMLBody(call, limit: 64 << 10, required: true),
            doc.name == "ObjectLockConfiguration"
        else {
            throw S3Error(.MalformedXML)
        }
        guard doc.child("ObjectLockEnabled")?.text.trimmingSpaces() == "Enabled" else {
            throw S3Error(.MalformedXML)
        }
        var config = ObjectLockConfig(enabled: true)
        if let rule = doc.child("Rule") {
            guard let retention = rule.child("DefaultRetention"),
                let modeText = retention.child("Mode")?.text.trimmingSpaces()
            else {
                throw S3Error(.MalformedXML)
            }
            guard let mode = LockMode(rawValue: modeText) else { throw S3Error(.MalformedXML) }
            let days = retention.child("Days").map { Int($0.text.trimmingSpaces()) }
            let years = retention.child("Years").map { Int($0.text.trimmingSpaces()) }
            switch (days, years) {
            case (let d??, nil):
                guard d > 0, d <= 36500 else {
                    throw S3Error(
                        .InvalidArgument,
                        "Default retention period must be a positive integer value of at most 36500 days")
                }
                config.defaultDays = d
            case (nil, let y??):
                guard y > 0, y <= 100 else {
                    throw S3Error(
                        .InvalidArgument,
                        "Default retention period must be a positive integer value of at most 100 years")
                }
                config.defaultYears = y
            case (nil, nil), (_?, _?):
                throw S3Error(.MalformedXML)
            default:
                throw S3Error(.InvalidArgument, "Default retention period must be a positive integer value")
            }
            config.defaultMode = mode
        }
        try await metadata.setObjectLock(bucket: bucket, config: config)
        return Response(status: .ok, headers: [.contentLength: "0"])
    }

    // MARK: Get/PutObjectRetention, Get/PutObjectLegalHold

    static let missingLockConfiguration = S3Error(.InvalidRequest, "Bucket is missing Object Lock Configuration")

    func getObjectRetention(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let versionID = try versionParam(call)
        guard try await existingBucket(call).objectLock?.enabled == true else { throw Self.missingLockConfiguration }
        let record = try await objects.head(bucket: bucket, key: key, versionID: versionID)
        guard let mode = record.meta.lockMode, let until = record.meta.lockRetainUntil else {
            throw StorageError.noObjectLockConfiguration
        }
        var w = XMLWriter()
        w.open("Retention")
        w.element("Mode", mode.rawValue)
        w.element("RetainUntilDate", WireDate.iso8601(until))
        w.close("Retention")
        return xmlResponse(w.finish())
    }

    func putObjectRetention(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let versionID = try versionParam(call)
        guard let doc = try await readXMLBody(call, limit: 64 << 10, required: true), doc.name == "Retention" else {
            throw S3Error(.MalformedXML)
        }
        let now = Date()
        var mode: LockMode?
        var until: Date?
        let modeText = doc.child("Mode")?.text.trimmingSpaces()
        let untilText = doc.child("RetainUntilDate")?.text.trimmingSpaces()
        switch (modeText, untilText) {
        case (nil, nil), ("", ""):
            break  // removes the retention (GOVERNANCE with the bypass only)
        case (let m?, let u?):
            guard let parsed = LockMode(rawValue: m) else { throw S3Error(.MalformedXML) }
            guard let d = WireDate.parseHTTP(u) else { throw S3Error(.MalformedXML) }
            guard d > now else { throw S3Error(.InvalidArgument, "The retain until date must be in the future!") }
            mode = parsed
            until = d
        default:
            throw S3Error(.MalformedXML)
        }
        let bypass = bypassesGovernance(call)
        let (newMode, newUntil) = (mode, until)
        let record = try await metadata.updateObject(bucket: bucket, key: key, versionID: versionID) { meta, lock in
            guard lock?.enabled == true else {
                throw StorageError.invalidRequest("Bucket is missing Object Lock Configuration")
            }
            try ObjectLockRules.checkRetentionChange(
                meta, mode: newMode, until: newUntil, bypassGovernance: bypass, now: now)
            meta.lockMode = newMode
            meta.lockRetainUntil = newUntil
        }
        var headers = HTTPFields()
        addVersionHeader(&headers, record.versionID)
        headers[.contentLength] = "0"
        return Response(status: .ok, headers: headers)
    }

    func getObjectLegalHold(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let versionID = try versionParam(call)
        guard try await existingBucket(call).objectLock?.enabled == true else { throw Self.missingLockConfiguration }
        let record = try await objects.head(bucket: bucket, key: key, versionID: versionID)
        var w = XMLWriter()
        w.open("LegalHold")
        w.element("Status", record.meta.legalHold ? "ON" : "OFF")
        w.close("LegalHold")
        return xmlResponse(w.finish())
    }

    func putObjectLegalHold(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let versionID = try versionParam(call)
        guard let doc = try await readXMLBody(call, limit: 64 << 10, required: true), doc.name == "LegalHold",
            let status = doc.child("Status")?.text.trimmingSpaces(), status == "ON" || status == "OFF"
        else {
            throw S3Error(.MalformedXML)
        }
        let record = try await metadata.updateObject(bucket: bucket, key: key, versionID: versionID) { meta, lock in
            guard lock?.enabled == true else {
                throw StorageError.invalidRequest("Bucket is missing Object Lock Configuration")
            }
            meta.legalHold = status == "ON"
        }
        var headers = HTTPFields()
        addVersionHeader(&headers, record.versionID)
        headers[.contentLength] = "0"
        return Response(status: .ok, headers: headers)
    }
}
