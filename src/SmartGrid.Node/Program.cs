Console.WriteLine("SmartGrid");
