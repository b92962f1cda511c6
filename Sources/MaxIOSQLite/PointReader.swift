import Foundation
import GRDBSQLite
import MaxIOStorage
import Synchronization

/// Point reads of one object row on raw read-only SQLite connections with a prepared statement each,
/// for the GET/HEAD path: GRDB's pool and queue machinery cost about a tenth of a small GET
/// (docs/benchmarks.md). Connections are taken from a free list, so each is used by one thread at a time.
/// In WAL mode every statement reads a committed snapshot.
final class PointReader: Sendable {
    private final class Connection: @unchecked Sendable {
        let db: OpaquePointer
        let statement: OpaquePointer

        init(path: String) throws {
            var db: OpaquePointer?
            let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            guard sqlite3_open_v2(path, &db, flags, nil) == SQLITE_OK, let db else {
                if let db { sqlite3_close(db) }
                throw StorageError.io("cannot open \(path) for reading")
            }
            sqlite3_busy_timeout(db, 10_000)
            var stmt: OpaquePointer?
            let sql =
                "SELECT size, etag, last_modified, blob_id, meta, parts, version_id, delete_marker, seq FROM objects WHERE bucket = ? AND key = ?"
            guard sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil) == SQLITE_OK,
                let stmt
            else {
                let message = String(cString: sqlite3_errmsg(db))
                sqlite3_close(db)
                throw StorageError.io("cannot prepare point read: \(message)")
            }
            self.db = db
            self.statement = stmt
        }

        deinit {
            sqlite3_finalize(statement)
            sqlite3_close(db)
        }
    }

    private let path: String
    private let idle = Mutex<[Connection]>([])

    init(path: String) {
        self.path = path
    }

    /// The row of `key` in `bucket`, with its metadata column still encoded; nil when there is none.
    func object(bucket: String, key: String) throws -> (
        size: Int64, etag: String, lastModified: Double, blobID: String, meta: [UInt8], metaIsText: Bool, parts: Int,
        versionID: String, deleteMarker: Bool, seq: Int64
    )? {
        let connection = try idle.withLock { $0.popLast() } ?? Connection(path: path)
        defer { idle.withLock { $0.append(connection) } }
        let stmt = connection.statement
        defer {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
        }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        var bytes = Array(key.utf8)
        guard sqlite3_bind_text(stmt, 1, bucket, -1, transient) == SQLITE_OK,
            bytes.withUnsafeMutableBytes({ sqlite3_bind_blob(stmt, 2, $0.baseAddress, Int32($0.count), transient) })
                == SQLITE_OK
        else {
            throw StorageError.io("point read bind: \(String(cString: sqlite3_errmsg(connection.db)))")
        }
        switch sqlite3_step(stmt) {
        case SQLITE_DONE:
            return nil
        case SQLITE_ROW:
            func text(_ i: Int32) -> String {
                guard let p = sqlite3_column_text(stmt, i) else { return "" }
                return String(cString: p)
            }
            let metaType = sqlite3_column_type(stmt, 4)
            let metaLength = Int(sqlite3_column_bytes(stmt, 4))
            var meta = [UInt8]()
            if metaLength > 0, let p = sqlite3_column_blob(stmt, 4) {
                meta = Array(UnsafeRawBufferPointer(start: p, count: metaLength))
            }
            return (
                sqlite3_column_int64(stmt, 0), text(1), sqlite3_column_double(stmt, 2), text(3), meta,
                metaType == SQLITE_TEXT, Int(sqlite3_column_int64(stmt, 5)), text(6),
                sqlite3_column_int64(stmt, 7) != 0,
                sqlite3_column_int64(stmt, 8)
            )
        default:
            throw StorageError.io("point read: \(String(cString: sqlite3_errmsg(connection.db)))")
        }
    }
}
