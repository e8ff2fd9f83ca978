using System;
using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Catalog
{
    /// <summary>
    /// Catalog writes grouped into transactions committed every few thousand rows or every second:
    /// one commit per row would cost more than the work, and a stop or crash loses at most the last
    /// batch, which the writers are built to redo (a rescan re-reads, a link run re-checks the disk).
    /// </summary>
    public sealed class WriteBatch : IDisposable
    {
        private readonly CatalogDatabase _db;
        private readonly int _maxRows;
        private readonly TimeSpan _maxAge;
        private readonly Stopwatch _age = new Stopwatch();
        private SqliteTransaction? _transaction;
        private int _rows;
        private readonly System.Collections.Generic.Dictionary<string, SqliteCommand> _prepared = new System.Collections.Generic.Dictionary<string, SqliteCommand>();

        public WriteBatch(CatalogDatabase db, int maxRows = 4096, double maxSeconds = 1)
        {
            _db = db;
            _maxRows = maxRows;
            _maxAge = TimeSpan.FromSeconds(maxSeconds);
        }

        /// <summary>How long the open transaction has been open (zero when none is).</summary>
        public TimeSpan Age => _transaction == null ? TimeSpan.Zero : _age.Elapsed;

        /// <summary>The open transaction, or null when none is (reads on the same connection must join it).</summary>
        public SqliteTransaction? Current => _transaction;

        /// <summary>The open transaction (begun on first use).</summary>
        public SqliteTransaction Transaction
        {
            get
            {
                if (_transaction == null)
                {
                    try
                    {
                        _transaction = _db.Connection.BeginTransaction(deferred: false);
                    }
                    catch (SqliteException e)
                    {
                        throw CatalogDatabase.Translate(e, _db.Path);
                    }
                    _rows = 0;
                    _age.Restart();
                }
                return _transaction;
            }
        }

        /// <summary>A command in the open transaction.</summary>
        public SqliteCommand Command(string sql) => _db.Command(sql, Transaction);

        /// <summary>Runs a statement in the batch; each distinct statement is prepared once per batch object.</summary>
        public void Run(string sql, params (string Name, object? Value)[] parameters)
        {
            if (!_prepared.TryGetValue(sql, out var command))
                _prepared[sql] = command = _db.Command(sql);
            command.Parameters.Clear();
            foreach (var (name, value) in parameters)
                command.Parameters.AddWithValue(name, value ?? System.DBNull.Value);
            Execute(command);
        }

        /// <summary>Runs a command of this batch, counting it towards the next commit.</summary>
        public void Execute(SqliteCommand command)
        {
            command.Transaction = Transaction;
            try
            {
                command.ExecuteNonQuery();
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
            _rows++;
        }

        public void MaybeCommit()
        {
            if (_transaction != null && (_rows >= _maxRows || _age.Elapsed >= _maxAge))
                Commit();
        }

        public void Commit()
        {
            if (_transaction == null)
                return;
            try
            {
                _transaction.Commit();
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
            finally
            {
                _transaction.Dispose();
                _transaction = null;
            }
        }

        /// <summary>Uncommitted work rolls back.</summary>
        public void Dispose()
        {
            _transaction?.Dispose();
            _transaction = null;
            foreach (var command in _prepared.Values)
                command.Dispose();
            _prepared.Clear();
        }
    }
}
