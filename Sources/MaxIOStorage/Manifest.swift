import NIOCore
import Synchronization

/// Read leases on the manifests of multipart objects. A GET of a multipart object opens its part blobs one
/// after the other, so an overwrite or delete that commits meanwhile must not unlink parts still to be read:
/// while a manifest is leased, retiring it only records its blobs, and the last lease deletes them.
/// (A single-blob object needs none of this: its reader holds the open descriptor.) In-process state: after a
/// crash, blobs not referenced by the catalog are collected at start-up.
package final class ManifestLeases: Sendable {
    private struct Entry {
        var count = 0
        var retired: [String] = []
    }
    private let state = Mutex<[String: Entry]>([:])

    package init() {}

    package func acquire(_ manifest: String) {
        state.withLock { $0[manifest, default: Entry()].count += 1 }
    }

    /// Returns the blobs to delete now: those of a manifest retired while leased, once its last lease ends.
    package func release(_ manifest: String) -> [String] {
        state.withLock { s in
            guard var e = s[manifest] else { return [] }
            e.count -= 1
            if e.count > 0 {
                s[manifest] = e
                return []
            }
            s[manifest] = nil
            return e.retired
        }
    }

    /// Returns the blobs that may be deleted now; those of a leased manifest wait for its last release.
    package func retire(_ manifest: String, blobs: [String]) -> [String] {
        state.withLock { s in
            guard var e = s[manifest] else { return blobs }
            e.retired += blobs
            s[manifest] = e
            return []
        }
    }

    /// Manifests currently leased (for tests and metrics).
    package var leasedCount: Int { state.withLock { $0.count } }
}

/// Reads a multipart object through its manifest, opening one part blob at a time. Holds a lease on the
/// manifest from creation until `close` (or deinit), so the parts stay on disk while it reads.
/// Used by one reader task at a time (reads are awaited in sequence), hence unchecked Sendable.
final class ManifestReader: BlobReader, @unchecked Sendable {
    let parts: [ObjectPart]
    let size: Int64
    let manifest: String
    let blobs: any BlobStore
    let leases: ManifestLeases
    /// How the parts are sealed (all alike: the upload chose it).
    let sealing: BlobSealing
    let compressed: Bool
    private var current: (index: Int, reader: any BlobReader)?
    private let released = Atomic<Bool>(false)

    init(
        manifest: String, parts: [ObjectPart], blobs: any BlobStore, leases: ManifestLeases, sealing: BlobSealing,
        compressed: Bool
    ) {
        self.compressed = compressed
        self.sealing = sealing
        self.manifest = manifest
        self.parts = parts
        self.size = parts.last.map { $0.offset + $0.size } ?? 0
        self.blobs = blobs
        self.leases = leases
    }

    deinit {
        guard !released.load(ordering: .acquiring) else { return }
        let ids = leases.release(manifest)
        let blobs = self.blobs
        let reader = current?.reader
        if !ids.isEmpty || reader != nil {
            Task {
                await reader?.close()
                for id in ids { await blobs.delete(id) }
            }
        }
    }

    /// The index of the part holding byte `offset`.
    func partIndex(containing offset: Int64) -> Int? {
        var lo = 0
        var hi = parts.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let p = parts[mid]
            if offset < p.offset {
                hi = mid - 1
            } else if offset >= p.offset + p.size {
                lo = mid + 1
            } else {
                return mid
            }
        }
        return nil
    }

    /// Reads up to `length` bytes at `offset`, never across a part boundary (the caller asks again).
    func read(offset: Int64, length: Int) async throws -> ByteBuffer {
        guard length > 0, let i = partIndex(containing: offset) else { return ByteBuffer() }
        let part = parts[i]
        let reader: any BlobReader
        if let c = current, c.index == i {
            reader = c.reader
        } else {
            if let c = current {
                current = nil
                await c.reader.close()
            }
            guard let r = try await blobs.open(part.blobID, sealing: sealing, compressed: compressed) else {
                throw StorageError.io("part \(part.number) of manifest \(manifest) is missing")
            }
            current = (i, r)
            reader = r
        }
        let within = offset - part.offset
        let n = Int(min(Int64(length), part.size - within))
        return try await reader.read(offset: within, length: n)
    }

    func close() async {
        if let c = current {
            current = nil
            await c.reader.close()
        }
        guard released.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        for id in leases.release(manifest) { await blobs.delete(id) }
    }
}
