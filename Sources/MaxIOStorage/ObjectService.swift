import Foundation
import Logging
import MaxIOCore
import NIOCore

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

/// An object opened for reading: its record and its bytes.
package struct OpenObject: Sendable {
    package var record: ObjectRecord
    package var reader: any BlobReader
}

/// Buckets and objects over a `MetadataStore` and a `BlobStore`: the commit protocol lives here.
package struct ObjectService: Sendable {
    package let metadata: any MetadataStore
    package let blobs: any BlobStore
    let logger: Logger

    package init(metadata: any MetadataStore, blobs: any BlobStore, logger: Logger) {
        self.metadata = metadata
        self.blobs = blobs
        self.logger = logger
    }

    /// Streams `body` into a new blob, checks its digests and size, then makes it visible in one
    /// metadata transaction and retires the blob it replaced. On any failure nothing becomes visible
    /// and the temporary data is removed.
    package func put<Body: AsyncSequence>(_ req: PutRequest, body: Body, now: Date = Date()) async throws
        -> ObjectRecord where Body.Element == ByteBuffer
    {
        let writer = try await blobs.create(hashSHA256: req.expectedSHA256 != nil, checksum: req.checksum)
        do {
            var received: Int64 = 0
            for try await buffer in BodyErrors(base: body) {
                received += Int64(buffer.readableBytes)
                if let declared = req.declaredSize, received > declared { throw StorageError.incompleteBody }
                try await writer.write(buffer)
            }
            if let declared = req.declaredSize, received != declared { throw StorageError.incompleteBody }
            let digests = try await writer.finish()
            if let md5 = req.contentMD5, md5 != digests.md5 { throw StorageError.badDigest }
            if let sha = req.expectedSHA256, sha != digests.sha256 { throw StorageError.contentSHA256Mismatch }
            var meta = req.meta
            meta.checksums = nil
            if let hasher = digests.checksum {
                let computed = hasher.base64()
                if let expected = req.expectedChecksum?(), expected != computed {
                    throw StorageError.checksumMismatch(hasher.algorithm)
                }
                meta.checksums = [hasher.algorithm.rawValue: computed]
            }
            try await writer.commit()
            let record = ObjectRecord(
                bucket: req.bucket, key: req.key, size: digests.size, etag: Hex.encode(digests.md5),
                lastModified: now, blobID: writer.id, meta: meta)
            do {
                let replaced = try await metadata.putObject(record, condition: req.condition)
                if let replaced { await blobs.delete(replaced.blobID) }
            } catch {
                await blobs.delete(writer.id)
                throw error
            }
            return record
        } catch {
            await writer.abort()
            throw error
        }
    }

    /// Looks up an object and opens its blob. Retries when an overwrite retired the blob between
    /// the lookup and the open; once open, the bytes stay readable until closed.
    package func open(bucket: String, key: String) async throws -> OpenObject {
        for _ in 0..<5 {
            guard let record = try await metadata.object(bucket: bucket, key: key) else {
                throw StorageError.noSuchKey
            }
            if let reader = try await blobs.open(record.blobID) {
                return OpenObject(record: record, reader: reader)
            }
        }
        throw StorageError.io("object \(bucket)/\(key): blob missing after retries")
    }

    package func head(bucket: String, key: String) async throws -> ObjectRecord {
        guard let record = try await metadata.object(bucket: bucket, key: key) else { throw StorageError.noSuchKey }
        return record
    }

    package func delete(bucket: String, key: String, ifMatch: String? = nil) async throws {
        if let removed = try await metadata.deleteObject(bucket: bucket, key: key, ifMatch: ifMatch) {
            await blobs.delete(removed.blobID)
        }
    }

    package func delete(bucket: String, keys: [String]) async throws {
        let removed = try await metadata.deleteObjects(bucket: bucket, keys: keys)
        for r in removed { await blobs.delete(r.blobID) }
    }

    /// Copies an already opened source into a new object.
    package func copy(from source: OpenObject, to req: PutRequest, now: Date = Date()) async throws -> ObjectRecord {
        let size = source.reader.size
        let body = BlobByteSequence(reader: source.reader, range: 0..<size)
        var r = req
        r.declaredSize = size
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
