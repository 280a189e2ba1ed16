using System.Collections.Concurrent;

namespace SmartGrid.Storage.Tests;

/// <summary>The batching behind the journal's recovery reads, without a database: who gets which answer, and how few queries a crowd costs.</summary>
public sealed class QueryCoalescerSpecs
{
    /// <summary>A query that answers each request with its square after a database-like pause, and remembers its batches.</summary>
    private sealed class Squares
    {
        public ConcurrentBag<int> Batches { get; } = [];
        public Func<int, bool> FailsFor { get; init; } = _ => false;

        public async Task<IReadOnlyList<long>> QueryAsync(IReadOnlyList<int> requests, CancellationToken ct)
        {
            Batches.Add(requests.Count);
            await Task.Delay(5, ct);
            if (requests.Any(FailsFor)) throw new InvalidOperationException("the database refused this batch");
            return requests.Select(r => (long)r * r).ToList();
        }
    }

    [Fact]
    public async Task Should_answer_each_of_a_crowd_of_requests_with_its_own_result_in_a_few_queries()
    {
        var squares = new Squares();
        using var coalescer = new QueryCoalescer<int, long>(squares.QueryAsync, maxBatch: 500, parallelism: 2, linger: TimeSpan.FromMilliseconds(2));

        var answers = await Task.WhenAll(Enumerable.Range(0, 5_000).Select(coalescer.AskAsync));

        Assert.Equal(Enumerable.Range(0, 5_000).Select(r => (long)r * r), answers);
        Assert.Equal(5_000, squares.Batches.Sum());
        Assert.All(squares.Batches, size => Assert.InRange(size, 1, 500));
        Assert.InRange(squares.Batches.Count, 10, 100);
    }

    [Fact]
    public async Task Should_answer_a_lone_request_by_itself()
    {
        var squares = new Squares();
        using var coalescer = new QueryCoalescer<int, long>(squares.QueryAsync, maxBatch: 500, parallelism: 2, linger: TimeSpan.FromMilliseconds(2));

        Assert.Equal(49, await coalescer.AskAsync(7));
        Assert.Equal(64, await coalescer.AskAsync(8));

        Assert.Equal([1, 1], squares.Batches);
    }

    [Fact]
    public async Task Should_fail_only_the_requests_whose_batch_failed_and_keep_answering_after()
    {
        var squares = new Squares { FailsFor = r => r == 13 };
        using var coalescer = new QueryCoalescer<int, long>(squares.QueryAsync, maxBatch: 1, parallelism: 1, linger: TimeSpan.Zero);

        var asks = Enumerable.Range(10, 6).Select(coalescer.AskAsync).ToList();

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => asks[3]);
        Assert.Equal("the database refused this batch", failed.Message);
        var answered = await Task.WhenAll(asks.Where((_, i) => i != 3));
        Assert.Equal([100L, 121, 144, 196, 225], answered);
        Assert.Equal(16, await coalescer.AskAsync(4));
    }

    [Fact]
    public async Task Should_refuse_requests_once_disposed()
    {
        var squares = new Squares();
        var coalescer = new QueryCoalescer<int, long>(squares.QueryAsync, maxBatch: 10, parallelism: 1, linger: TimeSpan.Zero);
        coalescer.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => coalescer.AskAsync(3));
    }
}
