using System;
using System.Collections.Concurrent;
using System.Threading;

namespace Hashall.Core.Scanning
{
    /// <summary>
    /// A fixed set of threads hashing queued jobs. The queue is bounded (memory stays flat however big
    /// the tree); finished jobs wait in <see cref="Finished"/> for the scanning thread.
    /// </summary>
    internal sealed class HashWorkers : IDisposable
    {
        private readonly BlockingCollection<HashJob> _queue;
        private readonly Thread[] _threads;
        private readonly HashAlgorithms _algorithms;
        private readonly CancellationToken _cancel;
        private readonly SemaphoreSlim _finishedSignal = new SemaphoreSlim(0);
        private bool _disposed;

        public HashWorkers(int threads, HashAlgorithms algorithms, CancellationToken cancel)
        {
            _algorithms = algorithms;
            _cancel = cancel;
            _queue = new BlockingCollection<HashJob>(threads * 32);
            _threads = new Thread[threads];
            for (int i = 0; i < threads; i++)
            {
                _threads[i] = new Thread(Work) { IsBackground = true, Name = "hashall-hash-" + i };
                _threads[i].Start();
            }
        }

        public ConcurrentQueue<HashJob> Finished { get; } = new ConcurrentQueue<HashJob>();
        public long Submitted { get; private set; }

        /// <summary>Queues a job, waiting at most <paramref name="wait"/> for room; false when full.</summary>
        public bool TryAdd(HashJob job, TimeSpan wait)
        {
            if (!_queue.TryAdd(job, (int)wait.TotalMilliseconds, _cancel))
                return false;
            Submitted++;
            return true;
        }

        /// <summary>Waits until a job finishes or the time is up.</summary>
        public void WaitForFinished(TimeSpan wait) => _finishedSignal.Wait(wait);

        private void Work()
        {
            try
            {
                foreach (var job in _queue.GetConsumingEnumerable(_cancel))
                {
                    try
                    {
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
                    _finishedSignal.Release();
                }
            }
            catch (OperationCanceledException)
            {
                // stopped: queued jobs are dropped, finished ones are already in Finished
            }
        }

        /// <summary>No more jobs; waits for the threads to finish what they hold.</summary>
        public void Complete()
        {
            _queue.CompleteAdding();
            foreach (var t in _threads)
                t.Join();
        }

        public void Dispose()
        {
            if (_disposed)
                return;
            _disposed = true;
            if (!_queue.IsAddingCompleted)
                _queue.CompleteAdding();
            foreach (var t in _threads)
                t.Join(TimeSpan.FromSeconds(5));
            _queue.Dispose();
            _finishedSignal.Dispose();
        }
    }
}
