using Hashall.Core.Platform;
using System.Runtime.CompilerServices;
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;

namespace Hashall.Core.Scanning
{
    /// <summary>
    /// A fixed set of threads hashing queued batches of jobs. Batches (not single files) cross
    /// threads, so thousands of small files cost a few hand-offs, not one each. The queue is bounded
    /// (memory stays flat however big the tree); finished jobs wait in <see cref="Finished"/> for the
    /// scanning thread.
    /// </summary>
    internal sealed class HashWorkers : IDisposable
    {
        private readonly BlockingCollection<List<HashJob>> _queue;
        private readonly Thread[] _threads;
        private readonly HashAlgorithms _algorithms;
        private readonly CancellationToken _cancel;
        private readonly SemaphoreSlim _finishedSignal = new SemaphoreSlim(0);
        private bool _disposed;

        public HashWorkers(int threads, HashAlgorithms algorithms, CancellationToken cancel)
        {
            _algorithms = algorithms;
            _cancel = cancel;
            _queue = new BlockingCollection<List<HashJob>>(threads * 2);
            _threads = new Thread[threads];
            for (int i = 0; i < threads; i++)
            {
                _threads[i] = new Thread(Work) { IsBackground = true, Name = "hashall-hash-" + i };
                _threads[i].Start();
            }
        }

        public ConcurrentQueue<HashJob> Finished { get; } = new ConcurrentQueue<HashJob>();
        public long Submitted { get; private set; }

        /// <summary>Queues a batch, waiting at most <paramref name="wait"/> for room; false when full.</summary>
        public bool TryAdd(List<HashJob> batch, TimeSpan wait)
        {
            try
            {
                if (!_queue.TryAdd(batch, (int)wait.TotalMilliseconds, _cancel))
                    return false;
            }
            catch (OperationCanceledException)
            {
                return false; // stopping: the caller sees the cancellation and winds down
            }
            Submitted += batch.Count;
            return true;
        }

        /// <summary>Waits until a job finishes or the time is up.</summary>
        public void WaitForFinished(TimeSpan wait) => _finishedSignal.Wait(wait);

        [MethodImpl(HotPath.Optimize)]
        private void Work()
        {
            try
            {
                foreach (var batch in _queue.GetConsumingEnumerable(_cancel))
                {
                    foreach (var job in batch)
                        Run(job);
                    _finishedSignal.Release();
                }
            }
            catch (OperationCanceledException)
            {
                // stopped: queued jobs are dropped, finished ones are already in Finished
            }
        }

        [MethodImpl(HotPath.Optimize)]
        private void Run(HashJob job)
        {
            try
            {
                _cancel.ThrowIfCancellationRequested();
                job.Result = FileHasher.Hash(job.FullPath, job.Status, _algorithms, job.Quick, _cancel);
            }
            catch (HashallException e)
            {
                job.Error = e;
            }
            catch (OperationCanceledException)
            {
                job.Error = new HashallException("ScanStopped", HashallErrorKind.ResourceUnavailable, $"The scan stopped before '{job.FullPath}' was read.", job.FullPath);
            }
            catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException)
            {
                job.Error = new HashallException("FileUnreadable", HashallErrorKind.ReadError, $"Cannot read '{job.FullPath}': {e.Message}; its catalog entry is kept.", job.FullPath, e);
            }
            Finished.Enqueue(job);
        }

        public void Dispose()
        {
            if (_disposed)
                return;
            _disposed = true;
            if (!_queue.IsAddingCompleted)
                _queue.CompleteAdding();
            // Without a time limit: a worker still inside a slow read must not find its queue disposed.
            foreach (var t in _threads)
                t.Join();
            _queue.Dispose();
            _finishedSignal.Dispose();
        }
    }
}
