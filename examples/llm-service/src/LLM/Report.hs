-- | Daily usage reports, one line per model.
module LLM.Report
  ( Entry (..)
  , Report
  , summarise
  , render
  , busiest
  , label
  ) where

import Data.List (intercalate, sortOn)
import qualified Data.Map.Strict as Map
import Data.Ord (Down (..))

import LLM.Pricing (Billed, costOf)
import LLM.Types

data Entry = Entry
  { entryCalls :: Int
  , entryUsage :: Usage
  , entryCost :: Billed Usage
  }

type Report = Map.Map LLMKind Entry

-- | Fold calls into a report that has a row for every model, even unused ones.
summarise :: [(LLMKind, Usage)] -> Report
summarise calls = foldr add empty calls
  where
    empty = Map.fromList [ (k, Entry 0 (Usage 0 0) 0) | k <- allKinds ]
    add (kind, usage) = Map.adjust (bump kind usage) kind
    bump kind usage (Entry n total cost) =
      Entry (n + 1) (total <+> usage) (cost + costOf kind usage)

label :: LLMKind -> String
label k = case k of
  Sonnet -> "Sonnet (balanced)"
  Opus -> "Opus (deep)"
  Haiku -> "Haiku (fast)"

render :: Report -> String
render report = intercalate "\n" (map row (Map.toList report))
  where
    row (kind, Entry { entryCalls = n, entryUsage = usage, entryCost = cost }) =
      label kind ++ ": " ++ show n ++ " calls, "
        ++ show (totalTokens usage) ++ " tokens, $" ++ show cost

-- | The model with the most calls, if any model was called at all.
busiest :: Report -> Maybe (LLMKind, Int)
busiest report =
  case sortOn (Down . snd) [ (k, entryCalls e) | (k, e) <- Map.toList report ] of
    ((kind, n) : _) | n > 0 -> Just (kind, n)
    _ -> Nothing
