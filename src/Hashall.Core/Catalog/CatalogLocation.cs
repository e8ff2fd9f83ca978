using System;
using System.IO;

namespace Hashall.Core.Catalog
{
    /// <summary>Where the catalog lives when no -Database is given.</summary>
    public static class CatalogLocation
    {
        public const string EnvironmentVariable = "HASHALL_DB";

        /// <summary>
        /// The catalog to open: <paramref name="explicitPath"/> when given, else $HASHALL_DB, else
        /// ~/.hashall/catalog.db. Only that last, built-in place has its directory created on first use;
        /// a path the user named in a missing directory is an error (a typo must not scatter catalogs).
        /// </summary>
        public static (string Path, bool CreateDirectory) Resolve(string? explicitPath)
        {
            if (!string.IsNullOrWhiteSpace(explicitPath))
                return (explicitPath!, false);
            string? fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(fromEnv))
                return (fromEnv!, false);
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home))
                home = Environment.GetEnvironmentVariable("HOME") ?? ".";
            return (Path.Combine(home, ".hashall", "catalog.db"), true);
        }
    }
}
