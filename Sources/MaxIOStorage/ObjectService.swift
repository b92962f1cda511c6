import Foundation
import Logging
import MaxIOCore
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// What a PutObject (or a copy) writes, besides its body.
package struct PutRequest: Sendable {
    package var bucket: String
    package var key: String
    package var meta: ObjectMeta
    /// Bytes the client declared (Content-Length or x-amz-decoded-content-length).
    package var declaredSize: Int64?
    /// Content-MD5, decoded.
    package var contentMD5: [UInt8]?
    /// The signed payload hash, when the request signed it.
    package var expectedSHA256: [UInt8]?
    package var condition: WriteCondition?
    /// The additional checksum to compute and store.
    package var checksum: ChecksumAlgorithm?
    /// The checksum value the client sent (base64), read once the body has ended (it may come in a trailer).
    package var expectedChecksum: (@Sendable () -> String?)?
    /// The request carried Content-MD5 or a checksum (Object Lock requires one).
    package var bodyVerified = true
    /// A quota reservation taken before the body (see `ObjectService.reserve`); the write consumes it, a failed
    /// write releases it.
    package var reservation: String? = nil
    /// How the blob is encrypted on disk; recorded in the metadata (`ObjectMeta.record`).
    package var sealing: BlobSealing = .plain
    /// For a part: whether its upload stores its parts compressed (nil: not a part, the policy decides).
    package var partOfCompressedUpload: Bool? = nil

    package init(
        bucket: String, key: String, meta: ObjectMeta, declaredSize: Int64?, contentMD5: [UInt8]? = nil,
        expectedSHA256: [UInt8]? = nil, condition: WriteCondition? = nil, checksum: ChecksumAlgorithm? = nil,
        expectedChecksum: (@Sendable () -> String?)? = nil
    ) {
        self.checksum = checksum
        self.expectedChecksum = expectedChecksum
        self.bucket = bucket
        self.key = key
        self.meta = meta
        self.declaredSize = declaredSize
        self.contentMD5 = contentMD5
        self.expectedSHA256 = expectedSHA256
        self.condition = condition
    }
}

/// An object read: its record, and its bytes either in memory or open for streaming.
package struct ReadObject: Sendable {
    package enum Body: Sendable {
        case bytes(ByteBuffer)
        case reader(any BlobReader)
    }
    package var record: ObjectRecord
    package var body: Body
    /// The parts of a multipart object; empty for one stored as a single blob.
    package var parts: [ObjectPart] = []
}

/// An object opened for reading: its record and its bytes.
package struct OpenObject: Sendable {
    package var record: ObjectRecord
    package var reader: any BlobReader
    /// The parts of a multipart object; empty for one stored as a single blob.
    package var parts: [ObjectPart] = []
}

/// Buckets and objects over a `MetadataStore` and a `BlobStore`: the commit protocol lives here.
package struct ObjectService: Sendable {
    package let metadata: any MetadataStore
    package let blobs: any BlobStore
    let logger: Logger
    /// The embedded backend (synchronous catalog and file blobs): small requests run as one job on the
    /// blob store's thread pool instead of a hop per step.
    let embedded: (catalog: any SynchronousMetadataStore, files: FileBlobStore)?
    /// Keeps the parts of multipart objects being read from being unlinked under the reader.
    package let leases = ManifestLeases()
    /// Which new objects are stored compressed (transparent compression; off by default).
    package let compression: CompressionPolicy
    /// Bodies up to this size are written in one job; objects up to `wholeReadLimit` are read in one.
    package static let wholeWriteLimit: Int64 = 1 << 20

    package init(
        metadata: any MetadataStore, blobs: any BlobStore, logger: Logger, compression: CompressionPolicy = .init()
    ) {
        self.compression = compression
        self.metadata = metadata
        self.blobs = blobs
        self.logger = logger
        if let catalog = metadata as? any SynchronousMetadataStore, let files = blobs as? FileBlobStore {
            embedded = (catalog, files)
        } else {
            embedded = nil
        }
    }

    /// Checks a finished blob against what the request declared; returns the metadata to store.
    static func validate(_ digests: BlobDigests, _ req: PutRequest) throws -> ObjectMeta {
        if let md5 = req.contentMD5, md5 != digests.md5 { throw StorageError.badDigest }
        if let sha = req.expectedSHA256, sha != digests.sha256 { throw StorageError.contentSHA256Mismatch }
        var meta = req.meta
        meta.checksums = nil
        meta.checksumType = nil
        meta.record(req.sealing)
        if let hasher = digests.checksum {
            let computed = hasher.base64()
            if let expected = req.expectedChecksum?(), expected != computed {
                throw StorageError.checksumMismatch(hasher.algorithm)
            }
            meta.checksums = [hasher.algorithm.rawValue: computed]
        }
        return meta
    }

    /// The zlib level to store a write's blob with, nil to store it as is: by the policy and the content type,
    /// or for a part, by what its upload recorded.
    func level(_ req: PutRequest) -> Int? {
        if let part = req.partOfCompressedUpload { return part ? compression.level : nil }
        return compression.applies(to: req.meta.contentType) ? compression.level : nil
    }

    /// The ETag of a finished blob: the MD5 of its bytes, or for a customer key an HMAC of it (as AWS, whose
    /// SSE-C ETags are not the MD5).
    static func etag(_ digests: BlobDigests, _ sealing: BlobSealing) -> String {
        if case .customer(let key) = sealing { return Hex.encode(CustomerKey.etag(md5: digests.md5, key: key)) }
        return Hex.encode(digests.md5)
    }

    /// The sealing of a record's blobs, given the customer key the request sent (if any). Throws
    /// `customerKeyRequired` / `customerKeyMismatch` for an SSE-C object without the right key,
    /// `customerKeyNotApplicable` for a key sent for another object.
    package static func sealing(of record: ObjectRecord, customerKey: [UInt8]?) throws -> BlobSealing {
        if record.isDeleteMarker { return .plain }
        return try sealing(of: record.meta, customerKey: customerKey)
    }

    /// `sealing(of:customerKey:)` for the metadata of an object or of an upload in progress.
    package static func sealing(of meta: ObjectMeta, customerKey: [UInt8]?) throws -> BlobSealing {
        if let verifier = meta.sseCustomerVerifier {
            guard let customerKey else { throw StorageError.customerKeyRequired }
            guard CustomerKey.matches(customerKey, verifier: verifier) else { throw StorageError.customerKeyMismatch }
            return .customer(customerKey)
        }
        if customerKey != nil { throw StorageError.customerKeyNotApplicable }
        return meta.sse != nil ? .server : .plain
    }

    /// Streams `body` into a new blob, checks its digests and size, then makes it visible in one
    /// metadata transaction and retires the blob it replaced. On any failure nothing becomes visible
    /// and the temporary data is removed.
    package func put<Body: AsyncSequence>(_ req: PutRequest, body: Body, now: Date = Date()) async throws
        -> ObjectRecord where Body.Element == ByteBuffer
    {
        if let embedded, let declared = req.declaredSize, declared <= Self.wholeWriteLimit {
            return try await putWhole(req, body: body, declared: Int(declared), embedded: embedded, now: now)
        }
        let blob: (id: String, digests: BlobDigests, meta: ObjectMeta)
        do {
            blob = try await writeBlob(req, body: body)
        } catch {
            await release(req.reservation)
            throw error
        }
        let record = ObjectRecord(
            bucket: req.bucket, key: req.key, size: blob.digests.size, etag: Self.etag(blob.digests, req.sealing),
            lastModified: now, blobID: blob.id, meta: blob.meta)
        let outcome: WriteOutcome
        do {
            outcome = try await metadata.putObject(
                record, condition: req.condition, bodyVerified: req.bodyVerified, reservation: req.reservation)
        } catch {
            await blobs.delete(blob.id)
            await release(req.reservation)
            throw error
        }
        for r in outcome.retired { await retire(r) }
        return outcome.record
    }

    /// Reserves quota for a body of `bytes` before it is read: nil when no quota applies to the bucket or its
    /// tenant; throws `quotaExceeded` when it would not fit. Pass it in `PutRequest.reservation` (or to
    /// `uploadPart`), or give it back with `release`.
    /// `replacing`: the key the write goes to; what it will replace for good is not counted twice.
    package func reserve(bucket: String, replacing key: String? = nil, bytes: Int64, objects: Int64) async throws
        -> String?
    {
        // Long enough for a slow upload (at 256 KiB/s); the commit checks the quota again in any case.
        let ttl = max(900, Double(bytes) / 262_144)
        return try await metadata.reserve(bucket: bucket, replacing: key, bytes: bytes, objects: objects, ttl: ttl)
    }

    /// Gives back a reservation no write consumed (errors are logged: it lapses by itself).
    package func release(_ reservation: String?) async {
        guard let reservation else { return }
        do {
            try await metadata.releaseReservation(reservation)
        } catch {
            logger.warning("could not release a quota reservation", metadata: ["error": "\(error)"])
        }
    }

    /// Streams `body` into a new committed blob, checking its size and digests against `req`; the blob is
    /// not referenced by the catalog yet. On failure nothing is left behind.
    func writeBlob<Body: AsyncSequence>(_ req: PutRequest, body: Body) async throws -> (
        id: String, digests: BlobDigests, meta: ObjectMeta
    ) where Body.Element == ByteBuffer {
        let writer = try await blobs.create(
            hashSHA256: req.expectedSHA256 != nil, checksum: req.checksum, sealing: req.sealing,
            compression: level(req))
        do {
            var received: Int64 = 0
            for try await buffer in BodyErrors(base: body) {
                received += Int64(buffer.readableBytes)
                if let declared = req.declaredSize, received > declared { throw StorageError.incompleteBody }
                try await writer.write(buffer)
            }
            if let declared = req.declaredSize, received != declared { throw StorageError.incompleteBody }
            let digests = try await writer.finish()
            var meta = try Self.validate(digests, req)
            meta.compressed = level(req) != nil
            try await writer.commit()
            return (writer.id, digests, meta)
        } catch {
            await writer.abort()
            throw error
        }
    }

    /// Retires the blobs of a record the catalog no longer shows (replaced or deleted).
    package func retire(_ record: ObjectRecord) async {
        if record.isDeleteMarker { return }
        if record.parts == 0 {
            await blobs.delete(record.blobID)
            return
        }
        for id in leases.retire(record.blobID, blobs: record.partBlobs) { await blobs.delete(id) }
    }

    /// `retire` inside a one-job request on the embedded backend.
    func retireSync(_ record: ObjectRecord, files: FileBlobStore) {
        if record.isDeleteMarker { return }
        if record.parts == 0 {
            files.unlinkSync(record.blobID)
            return
        }
        for id in leases.retire(record.blobID, blobs: record.partBlobs) { files.unlinkSync(id) }
    }

    /// A small body: gathered in memory (at most `wholeWriteLimit` bytes, as declared), then written,
    /// checked, committed and made visible in one thread-pool job.
    func putWhole<Body: AsyncSequence>(
        _ req: PutRequest, body: Body, declared: Int,
        embedded: (catalog: any SynchronousMetadataStore, files: FileBlobStore),
        now: Date
    ) async throws -> ObjectRecord where Body.Element == ByteBuffer {
        do {
            return try await putWholeUnreleased(req, body: body, declared: declared, embedded: embedded, now: now)
        } catch {
            await release(req.reservation)
            throw error
        }
    }

    private func putWholeUnreleased<Body: AsyncSequence>(
        _ req: PutRequest, body: Body, declared: Int,
        embedded: (catalog: any SynchronousMetadataStore, files: FileBlobStore),
        now: Date
    ) async throws -> ObjectRecord where Body.Element == ByteBuffer {
        var whole = ByteBuffer()
        var received = 0
        for try await buffer in BodyErrors(base: body) {
            received += buffer.readableBytes
            if received > declared { throw StorageError.incompleteBody }
            if whole.readableBytes == 0 && whole.capacity == 0 {
                whole = buffer
            } else {
                var b = buffer
                whole.writeBuffer(&b)
            }
        }
        if received != declared { throw StorageError.incompleteBody }
        let body = whole
        return try await embedded.files.pool.runIfActive {
            var meta = req.meta
            let (id, digests) = try embedded.files.writeWholeSync(
                body, hashSHA256: req.expectedSHA256 != nil, checksum: req.checksum, sealing: req.sealing,
                compression: self.level(req)
            ) { digests in
                meta = try Self.validate(digests, req)
                meta.compressed = self.level(req) != nil
            }
            let record = ObjectRecord(
                bucket: req.bucket, key: req.key, size: digests.size, etag: Self.etag(digests, req.sealing),
                lastModified: now, blobID: id, meta: meta)
            let outcome: WriteOutcome
            do {
                outcome = try embedded.catalog.putObjectSync(
                    record, condition: req.condition, bodyVerified: req.bodyVerified, reservation: req.reservation)
            } catch {
                embedded.files.unlinkSync(id)
                throw error
            }
            for r in outcome.retired { self.retireSync(r, files: embedded.files) }
            return outcome.record
        }
    }

    /// Looks up an object and reads it whole when it is at most `wholeUpTo` bytes, in one job on the
    /// embedded backend; otherwise opens it for streaming.
    package func read(
        bucket: String, key: String, versionID: String? = nil, customerKey: [UInt8]? = nil, wholeUpTo limit: Int
    ) async throws -> ReadObject {
        guard let embedded, versionID == nil else {
            let o = try await open(bucket: bucket, key: key, versionID: versionID, customerKey: customerKey)
            return ReadObject(record: o.record, body: .reader(o.reader), parts: o.parts)
        }
        let files = embedded.files
        return try await files.pool.runIfActive {
            for _ in 0..<5 {
                guard let record = try embedded.catalog.objectSync(bucket: bucket, key: key) else {
                    throw StorageError.noSuchKey
                }
                try Self.visible(record, requested: nil)
                let sealing = try Self.sealing(of: record, customerKey: customerKey)
                if record.parts > 0 {
                    guard let reader = try self.manifestReader(record, sealing: sealing, sync: embedded.catalog)
                    else { continue }
                    return ReadObject(record: record, body: .reader(reader), parts: reader.parts)
                }
                guard
                    let reader = try files.openReaderSync(
                        record.blobID, sealing: sealing, compressed: record.meta.compressed)
                else { continue }
                if reader.size > limit {
                    return ReadObject(record: record, body: .reader(reader))
                }
                defer { reader.closeSync() }
                let bytes = try reader.readSync(offset: 0, length: Int(reader.size))
                guard bytes.readableBytes == Int(reader.size) else { throw StorageError.io("short read") }
                return ReadObject(record: record, body: .bytes(bytes))
            }
            throw StorageError.io("object \(bucket)/\(key): blob missing after retries")
        }
    }

    /// Looks up an object and opens its blob. Retries when an overwrite retired the blob between
    /// the lookup and the open; once open, the bytes stay readable until closed.
    package func open(bucket: String, key: String, versionID: String? = nil, customerKey: [UInt8]? = nil)
        async throws -> OpenObject
    {
        for _ in 0..<5 {
            let record = try await lookup(bucket: bucket, key: key, versionID: versionID)
            let sealing = try Self.sealing(of: record, customerKey: customerKey)
            if record.parts > 0 {
                leases.acquire(record.blobID)
                let parts: [ObjectPart]
                do {
                    parts = try await metadata.objectParts(manifest: record.blobID)
                } catch {
                    for id in leases.release(record.blobID) { await blobs.delete(id) }
                    throw error
                }
                guard !parts.isEmpty else {
                    for id in leases.release(record.blobID) { await blobs.delete(id) }
                    continue
                }
                let reader = ManifestReader(
                    manifest: record.blobID, parts: parts, blobs: blobs, leases: leases, sealing: sealing,
                    compressed: record.meta.compressed)
                return OpenObject(record: record, reader: reader, parts: parts)
            }
            if let reader = try await blobs.open(record.blobID, sealing: sealing, compressed: record.meta.compressed) {
                return OpenObject(record: record, reader: reader)
            }
        }
        throw StorageError.io("object \(bucket)/\(key): blob missing after retries")
    }

    /// The latest version of a key, or the one asked for; `noSuchKey` / `noSuchVersion` when there is none,
    /// `deleteMarker` when it is a delete marker.
    package func lookup(bucket: String, key: String, versionID: String?) async throws -> ObjectRecord {
        let found: ObjectRecord?
        if let versionID {
            found = try await metadata.objectVersion(bucket: bucket, key: key, versionID: versionID)
        } else {
            found = try await metadata.object(bucket: bucket, key: key)
        }
        guard let record = found else { throw versionID == nil ? StorageError.noSuchKey : StorageError.noSuchVersion }
        try Self.visible(record, requested: versionID)
        return record
    }

    /// Refuses a delete marker: as the latest version it hides the key (404), asked for by version id it has no
    /// data (405).
    static func visible(_ record: ObjectRecord, requested versionID: String?) throws {
        if record.isDeleteMarker {
            throw StorageError.deleteMarker(
                versionID: VersionID.display(record.versionID), requested: versionID != nil,
                lastModified: record.lastModified)
        }
    }

    /// A reader of a multipart object's parts, holding a lease on its manifest; nil when the manifest is gone
    /// (the object was replaced after `record` was read: look it up again).
    func manifestReader(_ record: ObjectRecord, sealing: BlobSealing, sync catalog: any SynchronousMetadataStore)
        throws -> ManifestReader?
    {
        // Lease first, then read the manifest: a retirement that commits after the read sees the lease.
        leases.acquire(record.blobID)
        let parts: [ObjectPart]
        do {
            parts = try catalog.objectPartsSync(manifest: record.blobID)
        } catch {
            for id in leases.release(record.blobID) { embedded?.files.unlinkSync(id) }
            throw error
        }
        guard !parts.isEmpty else {
            for id in leases.release(record.blobID) { embedded?.files.unlinkSync(id) }
            return nil
        }
        return ManifestReader(
            manifest: record.blobID, parts: parts, blobs: blobs, leases: leases, sealing: sealing,
            compressed: record.meta.compressed)
    }

    /// An object's record and, for a multipart object, its parts (for `partNumber` requests).
    package func headWithParts(
        bucket: String, key: String, versionID: String? = nil, customerKey: [UInt8]? = nil
    ) async throws -> (ObjectRecord, [ObjectPart]) {
        for _ in 0..<5 {
            let record = try await head(bucket: bucket, key: key, versionID: versionID, customerKey: customerKey)
            guard record.parts > 0 else { return (record, []) }
            let parts = try await metadata.objectParts(manifest: record.blobID)
            if !parts.isEmpty { return (record, parts) }
        }
        throw StorageError.io("object \(bucket)/\(key): manifest missing after retries")
    }

    /// The record of a key's latest version (or the one named), checking the customer key of an SSE-C object.
    package func head(bucket: String, key: String, versionID: String? = nil, customerKey: [UInt8]? = nil)
        async throws -> ObjectRecord
    {
        if versionID != nil {
            let record = try await lookup(bucket: bucket, key: key, versionID: versionID)
            _ = try Self.sealing(of: record, customerKey: customerKey)
            return record
        }
        let found: ObjectRecord?
        if let embedded {
            found = try await embedded.files.pool.runIfActive {
                try embedded.catalog.objectSync(bucket: bucket, key: key)
            }
        } else {
            found = try await metadata.object(bucket: bucket, key: key)
        }
        guard let record = found else { throw StorageError.noSuchKey }
        try Self.visible(record, requested: nil)
        _ = try Self.sealing(of: record, customerKey: customerKey)
        return record
    }

    /// Deletes the object (or adds a delete marker in a versioned bucket), or one version for good.
    @discardableResult
    package func delete(
        bucket: String, key: String, versionID: String? = nil, ifMatch: String? = nil, bypassGovernance: Bool = false
    ) async throws -> DeleteOutcome {
        if let embedded, versionID == nil {
            return try await embedded.files.pool.runIfActive {
                let outcome = try embedded.catalog.deleteObjectSync(bucket: bucket, key: key, ifMatch: ifMatch)
                for r in outcome.retired { self.retireSync(r, files: embedded.files) }
                return outcome
            }
        }
        let outcome = try await metadata.deleteObject(
            bucket: bucket, key: key, versionID: versionID, ifMatch: ifMatch, bypassGovernance: bypassGovernance)
        for r in outcome.retired { await retire(r) }
        return outcome
    }

    @discardableResult
    package func delete(bucket: String, targets: [DeleteTarget], bypassGovernance: Bool = false) async throws
        -> [DeleteOutcome]
    {
        let outcomes = try await metadata.deleteObjects(
            bucket: bucket, targets: targets, bypassGovernance: bypassGovernance)
        for o in outcomes {
            for r in o.retired { await retire(r) }
        }
        return outcomes
    }

    /// Deletes an empty bucket, with any uploads still in progress in it.
    package func deleteBucket(_ name: String) async throws {
        for id in try await metadata.deleteBucket(name) { await blobs.delete(id) }
    }

    /// Copies an already opened source into a new object.
    package func copy(from source: OpenObject, to req: PutRequest, now: Date = Date()) async throws -> ObjectRecord {
        let size = source.reader.size
        let body = BlobByteSequence(reader: source.reader, range: 0..<size)
        var r = req
        r.declaredSize = size
        if r.reservation == nil {
            r.reservation = try await reserve(bucket: req.bucket, replacing: req.key, bytes: size, objects: 1)
        }
        return try await put(r, body: body, now: now)
    }
}

/// The bytes of an open blob, read on demand in chunks (so a slow consumer applies backpressure).
package struct BlobByteSequence: AsyncSequence, Sendable {
    package typealias Element = ByteBuffer
    let reader: any BlobReader
    let range: Range<Int64>
    let chunk: Int

    package init(reader: any BlobReader, range: Range<Int64>, chunk: Int = 1 << 20) {
        self.reader = reader
        self.range = range
        self.chunk = chunk
    }

    package func makeAsyncIterator() -> Iterator {
        Iterator(reader: reader, offset: range.lowerBound, end: range.upperBound, chunk: chunk)
    }

    package struct Iterator: AsyncIteratorProtocol {
        let reader: any BlobReader
        var offset: Int64
        let end: Int64
        let chunk: Int

        package mutating func next() async throws -> ByteBuffer? {
            guard offset < end else { return nil }
            let buf = try await reader.read(offset: offset, length: Int(Swift.min(Int64(chunk), end - offset)))
            guard buf.readableBytes > 0 else { throw StorageError.io("blob shorter than its record") }
            offset += Int64(buf.readableBytes)
            return buf
        }
    }
}

/// Passes a request body through, turning transport failures (the client went away mid-body) into
/// `incompleteBody`; errors that already say what went wrong (signatures, storage) pass unchanged.
struct BodyErrors<Base: AsyncSequence>: AsyncSequence where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base

    func makeAsyncIterator() -> Iterator { Iterator(base: base.makeAsyncIterator()) }

    struct Iterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator

        mutating func next() async throws -> ByteBuffer? {
            do {
                return try await base.next()
            } catch let e as StorageError {
                throw e
            } catch let e as any ClassifiedError {
                throw e
            } catch {
                throw StorageError.incompleteBody
            }
        }
    }
}
