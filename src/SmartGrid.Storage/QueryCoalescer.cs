using System.Threading.Channels;

namespace SmartGrid.Storage;

/// <summary>
/// Answers many small requests with few queries: requests that arrive within a few milliseconds of
/// each other, or while earlier queries run, wait together and go as one query, so the batch grows
/// with the load and a lone request waits only the linger. Used where thousands of callers each want one row by key at once (a fleet of
/// meters recovering), which one <c>WHERE key = ANY($1)</c> answers for about the price of one.
/// </summary>
/// <typeparam name="TRequest">One caller's question.</typeparam>
/// <typeparam name="TResult">Its answer; the query returns one per request, in the requests' order.</typeparam>
public sealed class QueryCoalescer<TRequest, TResult> : IDisposable
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(); // not SingleReader: that channel cannot count
    private readonly Func<IReadOnlyList<TRequest>, CancellationToken, Task<IReadOnlyList<TResult>>> _query;
    private readonly int _maxBatch;
    private readonly TimeSpan _linger;
    private readonly SemaphoreSlim _inFlight;
    private readonly CancellationTokenSource _stop = new();
    private readonly Action<int>? _onBatch;

    /// <param name="query">Answers a batch; it must return exactly one result per request, in order.</param>
    /// <param name="maxBatch">Most requests in one query (bounds its parameters and the rows it returns).</param>
    /// <param name="parallelism">Queries running at once; the rest of the requests wait and join the next.</param>
    /// <param name="linger">How long a batch waits for company once its first request is there (zero: not at all).</param>
    /// <param name="onBatch">Told the size of each batch as it starts (for metrics).</param>
    public QueryCoalescer(Func<IReadOnlyList<TRequest>, CancellationToken, Task<IReadOnlyList<TResult>>> query,
        int maxBatch, int parallelism, TimeSpan linger, Action<int>? onBatch = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(linger, TimeSpan.Zero);
        _linger = linger;
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        _query = query;
        _maxBatch = maxBatch;
        _inFlight = new SemaphoreSlim(parallelism, parallelism);
        _onBatch = onBatch;
        _ = Task.Run(LoopAsync);
    }

    public Task<TResult> AskAsync(TRequest request)
    {
        var pending = new Pending(request, new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
            pending.Answer.TrySetException(new ObjectDisposedException(nameof(QueryCoalescer<TRequest, TResult>)));
        return pending.Answer.Task;
    }

    private async Task LoopAsync()
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(_stop.Token))
            {
                // Taking a slot first is what makes batches: while every slot is busy, requests pile up.
                await _inFlight.WaitAsync(_stop.Token);
                // Requests of a burst come one message at a time (a plugin actor's mailbox): a moment's wait gathers them.
                if (_linger > TimeSpan.Zero && _queue.Reader.Count < _maxBatch) await Task.Delay(_linger, _stop.Token);
                var batch = new List<Pending>();
                while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var pending)) batch.Add(pending);
                if (batch.Count == 0)
                {
                    _inFlight.Release();
                    continue;
                }
                _ = RunAsync(batch);
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed: what is still queued is failed below.
        }
        while (_queue.Reader.TryRead(out var left))
            left.Answer.TrySetException(new ObjectDisposedException(nameof(QueryCoalescer<TRequest, TResult>)));
    }

    private async Task RunAsync(List<Pending> batch)
    {
        try
        {
            _onBatch?.Invoke(batch.Count);
            var results = await _query(batch.Select(p => p.Request).ToList(), _stop.Token);
            if (results.Count != batch.Count)
                throw new InvalidOperationException($"a batch of {batch.Count} request(s) was answered with {results.Count} result(s)");
            for (var i = 0; i < batch.Count; i++) batch[i].Answer.TrySetResult(results[i]);
        }
        catch (Exception e)
        {
            foreach (var pending in batch) pending.Answer.TrySetException(e);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _stop.Cancel();
    }

    private sealed record Pending(TRequest Request, TaskCompletionSource<TResult> Answer);
}
