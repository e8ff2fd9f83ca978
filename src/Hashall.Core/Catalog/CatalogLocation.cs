using System;
using System.IO;

namespace Hashall.Core.Catalog
{
    /// <summary>Where the catalog lives when no -Database is given, and which names can be a catalog at all.</summary>
    public static class CatalogLocation
    {
        public const string EnvironmentVariable = "HASHALL_DB";

        /// <summary>
        /// The catalog to open: <paramref name="explicitPath"/> when given, else $HASHALL_DB, else
        /// ~/.hashall/catalog.db. Only that last, built-in place has its directory created on first use;
        /// a path the user named in a missing directory is an error (a typo must not scatter catalogs).
        /// A name the user gave is checked (<see cref="Validate"/>) before <paramref name="resolve"/>
        /// (the shell's path resolution) turns it into a path.
        /// </summary>
        public static (string Path, bool CreateDirectory) Resolve(string? explicitPath, Func<string, string>? resolve = null)
        {
            if (explicitPath != null)
                return ((resolve ?? (p => p))(Validate(explicitPath, "-Database")), false);
            string? fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(fromEnv))
                return (Validate(fromEnv!, "$env:" + EnvironmentVariable), false);
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home))
                home = Environment.GetEnvironmentVariable("HOME") ?? ".";
            return (Path.Combine(home, ".hashall", "catalog.db"), true);
        }

        /// <summary>
        /// Refuses (CatalogPathInvalid) a catalog name that is blank or that SQLite would not treat as a
        /// file name (":memory:", a "file:" URI): such names made an in-memory catalog that forgot
        /// everything, or oddly named files in the current directory.
        /// </summary>
        public static string Validate(string name, string source = "The catalog path")
        {
            if (string.IsNullOrWhiteSpace(name))
                throw new HashallException("CatalogPathInvalid", HashallErrorKind.InvalidArgument,
                    $"{source} is blank; give the path of a catalog file (e.g. ~/.hashall/catalog.db).", name);
            string trimmed = name.Trim();
            if (trimmed.Equals(":memory:", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
                throw new HashallException("CatalogPathInvalid", HashallErrorKind.InvalidArgument,
                    $"{source} '{name}' is an SQLite special name (in-memory database or URI), not a file; give the path of a catalog file.", name);
            return name;
        }

        /// <summary>The full path of a catalog name, after <see cref="Validate"/>.</summary>
        public static string FullPath(string path) => Path.GetFullPath(Validate(path));
    }
}
