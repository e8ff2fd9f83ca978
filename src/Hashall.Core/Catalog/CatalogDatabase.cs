using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using Hashall.Core.Platform;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Catalog
{
    /// <summary>
    /// An open catalog: one SQLite file in WAL mode with a busy timeout, migrated to the latest schema.
    /// Opening inspects the file read-only first, so a corrupt, foreign or newer catalog is refused
    /// without being touched.
    /// </summary>
    public sealed class CatalogDatabase : IDisposable
    {
        /// <summary>PRAGMA application_id of Hashall catalogs ("HsAl").</summary>
        public const int ApplicationId = 0x4873416C;
        public const int BusyTimeoutMs = 30_000;
        /// <summary>
        /// SQLite's page cache per connection, in KiB (PRAGMA cache_size = -this): enough for readers,
        /// which stream through indexes once; a writer of many rows raises its own (see ScanWriter).
        /// </summary>
        public const int CacheKiB = 8 * 1024;

        private CatalogDatabase(string path, SqliteConnection connection)
        {
            Path = path;
            Connection = connection;
        }

        public string Path { get; }
        public SqliteConnection Connection { get; }

        /// <summary>
        /// Opens the catalog at <paramref name="path"/>, upgrading an older schema. A missing catalog is
        /// created when <paramref name="mayCreate"/> (cmdlets that write); otherwise (cmdlets that only
        /// read) it is CatalogNotFound and nothing is created.
        /// </summary>
        public static CatalogDatabase Open(string path, bool createDirectory = false, bool mayCreate = true) =>
            Open(path, createDirectory, Migrations.All, BusyTimeoutMs, mayCreate);

        /// <summary>Tests pass their own schema history (to build older or newer catalogs) and a short busy timeout.</summary>
        internal static CatalogDatabase Open(string path, bool createDirectory, IReadOnlyList<Migration>? migrations, int busyTimeoutMs = BusyTimeoutMs, bool mayCreate = true)
        {
            migrations ??= Migrations.All;
            string full = CatalogLocation.FullPath(path);
            var state = Examine(full);
            if (state != CatalogFileState.Present && state != CatalogFileState.Empty)
            {
                string directory = System.IO.Path.GetDirectoryName(full) ?? ".";
                if (!mayCreate)
                    throw NotFound(full, state == CatalogFileState.DirectoryMissing ? $" (the directory '{directory}' does not exist either)" : "");
                if (state == CatalogFileState.DirectoryMissing)
                {
                    if (!createDirectory)
                        throw new HashallException("CatalogDirectoryNotFound", HashallErrorKind.NotFound,
                            $"Cannot open catalog '{full}': the directory '{directory}' does not exist.", full);
                    Directory.CreateDirectory(directory);
                }
                Create(full, migrations, busyTimeoutMs);
                state = Examine(full);
                if (state != CatalogFileState.Present)
                    throw NotFound(full, " (it was removed right after it was created)");
            }
            if (state == CatalogFileState.Empty && !mayCreate)
                throw NotFound(full, " (the file there is empty: no catalog has been written to it yet)");
            if (state == CatalogFileState.Present)
                Inspect(full, migrations);

            // The file exists: open it without SQLite's create flag, so a catalog removed meanwhile is not made anew here.
            var connection = new SqliteConnection(ConnectionString(full, SqliteOpenMode.ReadWrite, busyTimeoutMs));
            try
            {
                Configure(connection, busyTimeoutMs);
                var db = new CatalogDatabase(full, connection);
                db.Migrate(migrations, mayCreate, busyTimeoutMs);
                return db;
            }
            catch (SqliteException e)
            {
                connection.Dispose();
                if (e.SqliteErrorCode == 14 && Examine(full) == CatalogFileState.Missing)
                    throw NotFound(full, "");
                throw Translate(e, full);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        /// <summary>Whether a catalog file is there (read-only look: nothing is opened or created).</summary>
        public enum CatalogFileState
        {
            /// <summary>Nothing at the path (its directory exists).</summary>
            Missing,
            /// <summary>Nothing at the path, and its directory does not exist.</summary>
            DirectoryMissing,
            /// <summary>A regular file of zero bytes: not a catalog yet.</summary>
            Empty,
            /// <summary>A regular file with content (or a symlink to one).</summary>
            Present,
        }

        /// <summary>
        /// What is at a catalog path, without opening it: refuses (CatalogPathIsDirectory, CatalogNotAFile)
        /// anything there that is not a regular file or a symlink to one — a FIFO would block, a device
        /// would be written to.
        /// </summary>
        public static CatalogFileState Examine(string path)
        {
            string full = CatalogLocation.FullPath(path);
            int error = TargetKind.TryGet(full, out var kind);
            if (error == 0)
            {
                switch (kind)
                {
                    case FileKind.Regular:
                        return new FileInfo(full).Length == 0 ? CatalogFileState.Empty : CatalogFileState.Present;
                    case FileKind.Directory:
                        throw new HashallException("CatalogPathIsDirectory", HashallErrorKind.InvalidArgument,
                            $"The catalog path '{full}' is a directory; give the path of a catalog file, e.g. '{System.IO.Path.Combine(full, "catalog.db")}'.", full);
                    default:
                        throw new HashallException("CatalogNotAFile", HashallErrorKind.InvalidArgument,
                            $"The catalog path '{full}' is not a regular file (a device, FIFO or socket); give the path of a catalog file. Nothing was written to it.", full);
                }
            }
            bool missing = FileSystemApi.IsWindows ? error == 2 || error == 3 : error == HardLinks.ENOENT || error == 20 /* ENOTDIR */;
            if (!missing)
                throw new HashallException("CatalogNotReadable", error == HardLinks.EACCES || error == HardLinks.EPERM ? HashallErrorKind.PermissionDenied : HashallErrorKind.ReadError,
                    $"Cannot look at catalog '{full}': {SystemErrors.Describe(error)}.", full);
            if (FileSystemApi.TryLstat(full, out var link) == 0 && link.Kind == FileKind.SymbolicLink)
                throw new HashallException("CatalogNotAFile", HashallErrorKind.InvalidArgument,
                    $"The catalog path '{full}' is a symbolic link to something that does not exist; give the path of a catalog file (or remove the link).", full);
            string directory = System.IO.Path.GetDirectoryName(full) ?? ".";
            return Directory.Exists(directory) ? CatalogFileState.Missing : CatalogFileState.DirectoryMissing;
        }

        private static HashallException NotFound(string full, string detail) => new HashallException("CatalogNotFound", HashallErrorKind.NotFound,
            $"There is no catalog '{full}'{detail}. Commands that only read never create one: check the path, or make the catalog with Invoke-HashallScan (or Set-HashallDevice).", full);

        /// <summary>
        /// Makes a new catalog where none is: built completely under a temporary name beside it, then
        /// renamed into place only if nothing is there yet. Another process opening the path meanwhile
        /// sees no file or a complete catalog, never one being written; of several processes creating
        /// it at once, one wins and the others open its catalog.
        /// </summary>
        private static void Create(string full, IReadOnlyList<Migration> migrations, int busyTimeoutMs)
        {
            string temporary = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full) ?? ".",
                "." + System.IO.Path.GetFileName(full) + ".creating-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            try
            {
                var connection = new SqliteConnection(ConnectionString(temporary, SqliteOpenMode.ReadWriteCreate, busyTimeoutMs));
                try
                {
                    Configure(connection, busyTimeoutMs);
                    new CatalogDatabase(temporary, connection).Migrate(migrations, true, busyTimeoutMs);
                }
                catch (SqliteException e)
                {
                    throw Translate(e, full);
                }
                catch (HashallException e) when (Equals(e.Target, temporary))
                {
                    throw new HashallException(e.ErrorId, e.Kind, e.Message.Replace(temporary, full), full, e);
                }
                finally
                {
                    // The last connection closing checkpoints the WAL into the file and removes -wal and -shm.
                    connection.Dispose();
                }
                int error = HardLinks.RenameNoReplace(temporary, full);
                if (!FileSystemApi.IsWindows && (error == 22 || error == 38 || error == 95))
                    // EINVAL, ENOSYS, ENOTSUP: this filesystem has no no-replace rename; link(2) is as exclusive.
                    error = HardLinks.Link(temporary, full);
                if (error != 0 && error != HardLinks.EEXIST && !(FileSystemApi.IsWindows && (error == 80 || error == 183)))
                    throw new HashallException("CatalogNotWritable", HashallErrorKind.WriteError,
                        $"Cannot create catalog '{full}': {HardLinks.Describe(error)}.", full);
                // EEXIST: another process created it first; that one is opened instead.
            }
            finally
            {
                foreach (string leftover in new[] { temporary, temporary + "-wal", temporary + "-shm", temporary + "-journal" })
                {
                    try
                    {
                        if (File.Exists(leftover))
                            File.Delete(leftover);
                    }
                    catch (IOException) { }
                    catch (UnauthorizedAccessException) { }
                }
            }
        }

        private static void Configure(SqliteConnection connection, int busyTimeoutMs)
        {
            connection.Open();
            Execute(connection, $"PRAGMA busy_timeout = {busyTimeoutMs};");
            Execute(connection, "PRAGMA journal_mode = WAL;");
            Execute(connection, "PRAGMA synchronous = NORMAL;");
            Execute(connection, "PRAGMA foreign_keys = ON;");
            // A scan writes rows in random index order; a small page cache spills dirty pages to the
            // WAL row by row (measured: one pwrite per row with the 2 MB default).
            Execute(connection, $"PRAGMA cache_size = -{CacheKiB};");
            Execute(connection, "PRAGMA temp_store = MEMORY;");
        }

        /// <summary>
        /// An empty catalog in memory, standing in for <paramref name="path"/> that does not exist yet:
        /// -WhatIf can then show what would happen without creating the file.
        /// </summary>
        public static CatalogDatabase OpenEmptyStandIn(string path)
        {
            var connection = new SqliteConnection("Data Source=:memory:");
            connection.Open();
            var db = new CatalogDatabase(System.IO.Path.GetFullPath(path), connection);
            db.Migrate(Migrations.All, true, BusyTimeoutMs);
            return db;
        }

        /// <summary>
        /// A second, read-only connection to an already opened catalog, for reading beside the writer
        /// (WAL: it reads a consistent snapshot while the other connection writes).
        /// </summary>
        public static CatalogDatabase OpenReader(string path)
        {
            var connection = new SqliteConnection(ConnectionString(path, SqliteOpenMode.ReadOnly, BusyTimeoutMs));
            try
            {
                connection.Open();
                Execute(connection, $"PRAGMA busy_timeout = {BusyTimeoutMs};");
                Execute(connection, $"PRAGMA cache_size = -{CacheKiB};");
                return new CatalogDatabase(path, connection);
            }
            catch (SqliteException e)
            {
                connection.Dispose();
                throw Translate(e, path);
            }
        }

        /// <summary>The schema version recorded in the file (PRAGMA user_version).</summary>
        public int SchemaVersion => Convert.ToInt32(Scalar("PRAGMA user_version;"), CultureInfo.InvariantCulture);

        public SqliteCommand Command(string sql, SqliteTransaction? transaction = null)
        {
            var command = Connection.CreateCommand();
            command.CommandText = sql;
            command.Transaction = transaction;
            return command;
        }

        public object? Scalar(string sql)
        {
            using var command = Command(sql);
            return command.ExecuteScalar();
        }

        /// <summary>Runs <paramref name="work"/> in an immediate (write-locking) transaction, translating SQLite errors.</summary>
        public T Write<T>(Func<SqliteTransaction, T> work)
        {
            try
            {
                using var transaction = Connection.BeginTransaction(deferred: false);
                T result = work(transaction);
                transaction.Commit();
                return result;
            }
            catch (SqliteException e)
            {
                throw Translate(e, Path);
            }
        }

        public void Dispose() => Connection.Dispose();

        private static string ConnectionString(string path, SqliteOpenMode mode, int busyTimeoutMs) => new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = mode,
            Pooling = false,
            DefaultTimeout = Math.Max(1, busyTimeoutMs / 1000),
        }.ToString();

        /// <summary>
        /// Looks at an existing file's SQLite header without opening it as a database (even a read-only
        /// SQLite connection would create -wal/-shm files beside a WAL catalog): refuse what is not
        /// SQLite, not ours, or from a newer module, before anything is written.
        /// </summary>
        private static void Inspect(string full, IReadOnlyList<Migration> migrations)
        {
            var header = new byte[100];
            int read;
            try
            {
                using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                read = stream.Read(header, 0, header.Length);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new HashallException("CatalogNotReadable", HashallErrorKind.PermissionDenied, $"Cannot read catalog '{full}': {e.Message}", full, e);
            }
            catch (IOException e)
            {
                throw new HashallException("CatalogNotReadable", HashallErrorKind.ReadError, $"Cannot read catalog '{full}': {e.Message}", full, e);
            }
            if (read < header.Length || Encoding.ASCII.GetString(header, 0, 16) != "SQLite format 3\0")
                throw new HashallException("CatalogCorrupt", HashallErrorKind.InvalidData,
                    $"'{full}' is not an SQLite database (corrupt, truncated or another kind of file). It was not changed.", full);
            int version = BigEndian(header, 60), appId = BigEndian(header, 68), pages = BigEndian(header, 28);
            if (appId != ApplicationId && (appId != 0 || pages > 1 || version != 0))
                throw NotHashall(full);
            if (version > Latest(migrations))
                throw TooNew(full, version, Latest(migrations));
        }

        private static int BigEndian(byte[] b, int at) => (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];

        private static HashallException NotHashall(string full) => new HashallException("CatalogNotHashall", HashallErrorKind.InvalidData,
            $"'{full}' is an SQLite database but not a Hashall catalog; it was not changed.", full);

        private static HashallException TooNew(string full, int version, int latest) => new HashallException("CatalogVersionTooNew", HashallErrorKind.InvalidData,
            $"Catalog '{full}' has schema version {version}, written by a newer Hashall; this module knows versions up to {latest}. Update the module; the catalog was not changed.", full);

        private static int Latest(IReadOnlyList<Migration> migrations) => migrations[migrations.Count - 1].Version;

        private void Migrate(IReadOnlyList<Migration> migrations, bool mayCreate, int busyTimeoutMs)
        {
            // The header may be stale while a crashed writer's WAL holds newer pages: ask SQLite too.
            // Version and tables are read in one transaction (one snapshot): read apart, another
            // process's first migration could commit in between and make a new catalog look foreign.
            var (current, tables) = Retrying(busyTimeoutMs, () =>
            {
                using var snapshot = Connection.BeginTransaction(deferred: true);
                using var version = Command("PRAGMA user_version;", snapshot);
                using var count = Command("SELECT count(*) FROM sqlite_master;", snapshot);
                var result = (Convert.ToInt32(version.ExecuteScalar(), CultureInfo.InvariantCulture), Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture));
                snapshot.Commit();
                return result;
            });
            if (current > Latest(migrations))
                throw TooNew(Path, current, Latest(migrations));
            if (current == 0 && tables > 0)
                throw NotHashall(Path);
            if (current == 0 && !mayCreate)
                throw NotFound(Path, " (the file there is an empty SQLite database: no catalog has been written to it yet)");
            foreach (var migration in migrations)
            {
                if (migration.Version <= current)
                    continue;
                try
                {
                    Retrying(busyTimeoutMs, () => { Apply(migration); return 0; });
                }
                catch (SqliteException e) when (e.SqliteErrorCode == 1)
                {
                    throw new HashallException("CatalogMigrationFailed", HashallErrorKind.InvalidData,
                        $"Upgrading catalog '{Path}' to schema version {migration.Version} ({migration.Name}) failed and was rolled back: {e.Message}", Path, e);
                }
                current = migration.Version;
            }
        }

        /// <summary>
        /// Runs <paramref name="work"/> again while SQLite answers BUSY or LOCKED (cases its busy handler
        /// does not wait for, such as a WAL being recovered by another process), up to the busy timeout.
        /// </summary>
        private static T Retrying<T>(int busyTimeoutMs, Func<T> work)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    return work();
                }
                catch (SqliteException e) when ((e.SqliteErrorCode == 5 || e.SqliteErrorCode == 6) && clock.ElapsedMilliseconds < busyTimeoutMs)
                {
                    System.Threading.Thread.Sleep(Math.Min(100, 5 << Math.Min(attempt, 4)));
                }
            }
        }

        /// <summary>One migration in one immediate transaction, stamped with its version.</summary>
        private void Apply(Migration migration)
        {
            using var transaction = Connection.BeginTransaction(deferred: false);
            // Another process may have migrated while we waited for the write lock.
            using (var check = Command("PRAGMA user_version;", transaction))
            {
                if (Convert.ToInt32(check.ExecuteScalar(), CultureInfo.InvariantCulture) >= migration.Version)
                    return;
            }
            using (var apply = Command(migration.Sql, transaction))
                apply.ExecuteNonQuery();
            migration.Step?.Invoke(Connection, transaction);
            using (var record = Command("INSERT INTO schema_migrations(version, name, applied_at) VALUES ($v, $n, $t);", transaction))
            {
                record.Parameters.AddWithValue("$v", migration.Version);
                record.Parameters.AddWithValue("$n", migration.Name);
                record.Parameters.AddWithValue("$t", CatalogTime.Format(DateTime.UtcNow));
                record.ExecuteNonQuery();
            }
            using (var stamp = Command($"PRAGMA application_id = {ApplicationId}; PRAGMA user_version = {migration.Version};", transaction))
                stamp.ExecuteNonQuery();
            transaction.Commit();
        }

        private static void Execute(SqliteConnection connection, string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }

        private static int ScalarInt(SqliteConnection connection, string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        /// <summary>SQLite result codes to stable error ids naming the catalog.</summary>
        public static HashallException Translate(SqliteException e, string path)
        {
            switch (e.SqliteErrorCode)
            {
                case 5: case 6: // SQLITE_BUSY, SQLITE_LOCKED
                    return new HashallException("CatalogBusy", HashallErrorKind.ResourceBusy,
                        $"Catalog '{path}' is locked by another process and stayed locked past the busy timeout: {e.Message}", path, e);
                case 11: case 26: // SQLITE_CORRUPT, SQLITE_NOTADB
                    return new HashallException("CatalogCorrupt", HashallErrorKind.InvalidData,
                        $"Catalog '{path}' is not a readable SQLite database (corrupt or another kind of file): {e.Message}. It was not changed.", path, e);
                case 8: case 14: case 23: // SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_AUTH
                    return new HashallException("CatalogNotWritable", HashallErrorKind.PermissionDenied,
                        $"Cannot open catalog '{path}' for writing (read-only file, directory or filesystem, or no permission): {e.Message}", path, e);
                case 13: // SQLITE_FULL
                    return new HashallException("CatalogDiskFull", HashallErrorKind.WriteError,
                        $"The disk holding catalog '{path}' is full: {e.Message}", path, e);
                default:
                    return new HashallException("CatalogError", HashallErrorKind.WriteError, $"Catalog '{path}': {e.Message}", path, e);
            }
        }
    }
}
