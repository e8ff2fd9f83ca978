using System;
using System.Collections.Generic;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.Platform;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Payloads
{
    /// <summary>A directory that holds seeding data, stored in the catalog (Add-HashallSeedingRoot).</summary>
    public sealed class HashallSeedingRoot
    {
        /// <summary>Absolute, without a trailing separator.</summary>
        public string Path { get; set; } = "";
        public DateTime AddedAt { get; set; }
        /// <summary>Whether the directory exists now.</summary>
        public bool Exists { get; set; }
        public string Database { get; set; } = "";
        public override string ToString() => Path;
    }

    /// <summary>
    /// The catalog's seeding roots (table seeding_roots): directories that hold seeding data. A hard
    /// link outside all of them is an external consumer (a media library); orphans are looked for under
    /// them. New-RehomePlan, the orphan cmdlets and link status use them when not given roots.
    /// </summary>
    public sealed class SeedingRootStore
    {
        private readonly CatalogDatabase _db;

        public SeedingRootStore(CatalogDatabase db) => _db = db;

        /// <summary>The stored roots, by path.</summary>
        public List<HashallSeedingRoot> List()
        {
            var list = new List<HashallSeedingRoot>();
            try
            {
                using var c = _db.Command("SELECT path, added_at FROM seeding_roots ORDER BY path;");
                using var r = c.ExecuteReader();
                while (r.Read())
                {
                    string path = r.GetString(0);
                    list.Add(new HashallSeedingRoot
                    {
                        Path = path, AddedAt = CatalogTime.Parse(r.GetString(1)), Exists = System.IO.Directory.Exists(path), Database = _db.Path,
                    });
                }
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
            return list;
        }

        /// <summary>The stored roots' paths.</summary>
        public List<string> Paths() => List().Select(r => r.Path).ToList();

        /// <summary>
        /// <paramref name="given"/> (normalised, symlinks resolved) when any, else the stored roots; throws
        /// SeedingRootNotFound for a given root that is not a directory, SeedingRootNotSet when neither
        /// (<paramref name="parameter"/> names what to give instead).
        /// </summary>
        public List<string> Resolve(IEnumerable<string>? given, string parameter)
        {
            var roots = given?.Select(Normalize).Distinct(StringComparer.Ordinal).ToList() ?? new List<string>();
            foreach (string root in roots)
                if (!System.IO.Directory.Exists(root))
                    throw NotFound(root, parameter);
            if (roots.Count > 0)
                return roots;
            roots = Paths();
            if (roots.Count == 0)
                throw new HashallException("SeedingRootNotSet", HashallErrorKind.InvalidArgument,
                    $"No seeding roots: the catalog '{_db.Path}' has none stored (Add-HashallSeedingRoot) and {parameter} was not given.", _db.Path);
            return roots;
        }

        /// <summary>Stores a root (an absolute path to an existing directory); returns it. Adding one twice keeps the first.</summary>
        public HashallSeedingRoot Add(string path)
        {
            string root = Normalize(path);
            if (!System.IO.Directory.Exists(root))
                throw NotFound(root, null);
            _db.Write(t =>
            {
                using var c = _db.Command("INSERT INTO seeding_roots (path, added_at) VALUES ($p, $now) ON CONFLICT (path) DO NOTHING;", t);
                c.Parameters.AddWithValue("$p", root);
                c.Parameters.AddWithValue("$now", CatalogTime.Format(DateTime.UtcNow));
                return c.ExecuteNonQuery();
            });
            return List().First(r => r.Path == root);
        }

        private static HashallException NotFound(string root, string? parameter) =>
            new HashallException("SeedingRootNotFound", HashallErrorKind.NotFound,
                $"The seeding root '{root}'{(parameter == null ? "" : " (" + parameter + ")")} is not a directory: give an existing folder.", root);

        /// <summary>Removes a stored root (as given, or with its symlinks resolved); false when it was not stored.</summary>
        public bool Remove(string path)
        {
            string root = Normalize(path);
            string full = Absolute(path);
            return _db.Write(t =>
            {
                using var c = _db.Command("DELETE FROM seeding_roots WHERE path IN ($p, $full);", t);
                c.Parameters.AddWithValue("$p", root);
                c.Parameters.AddWithValue("$full", full);
                return c.ExecuteNonQuery();
            }) > 0;
        }

        /// <summary>
        /// An absolute path without a trailing separator ("/" stays "/"), its symlinks resolved as the scanner
        /// resolves a root (so a root given through a symlink is the path the catalog has); a path that does
        /// not exist stays as given.
        /// </summary>
        public static string Normalize(string path)
        {
            string full = Absolute(path);
            if (FileSystemApi.IsWindows || !System.IO.Directory.Exists(full))
                return full;
            try
            {
                return UnixPaths.RealPath(full);
            }
            catch (HashallException)
            {
                return full; // gone, or unreadable, in between: as given
            }
        }

        private static string Absolute(string path)
        {
            string full = System.IO.Path.GetFullPath(path);
            return full.Length > 1 ? full.TrimEnd('/', '\\') : full;
        }
    }
}
