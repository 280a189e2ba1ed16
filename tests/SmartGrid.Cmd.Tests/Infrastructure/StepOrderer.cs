using Xunit.Abstractions;
using Xunit.Sdk;

namespace SmartGrid.Cmd.Tests.Infrastructure;

/// <summary>The cluster specs share one 3-node cluster and change it (a member leaves, another is killed): they run in step order.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class StepAttribute(int order) : Attribute
{
    public int Order { get; } = order;
}

public sealed class StepOrderer : ITestCaseOrderer
{
    public const string TypeName = "SmartGrid.Cmd.Tests.Infrastructure.StepOrderer";
    public const string Assembly = "SmartGrid.Cmd.Tests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.GetCustomAttributes(typeof(StepAttribute).AssemblyQualifiedName!)
            .FirstOrDefault()?.GetConstructorArguments().Cast<int>().First() ?? int.MaxValue);
}
