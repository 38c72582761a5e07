{-# LANGUAGE TypeFamilies #-}

-- | What calls cost. Prices are US dollars per million tokens.
module LLM.Pricing
  ( Priced (..)
  , Discounted (..)
  , Rate
  , Billed
  , PriceTable
  , priceTable
  , costOf
  , cheapest
  , billAll
  ) where

import Data.List (foldl', sortOn)
import qualified Data.Map.Strict as Map

import LLM.Types

-- | Anything with a per-token price. 'outputPrice' defaults to five times the
-- input price, which holds for every current model.
class Show a => Priced a where
  inputPrice :: a -> Double
  outputPrice :: a -> Double
  outputPrice x = 5 * inputPrice x

-- | A priced thing that may be discounted (batch API, cached prompts).
class Priced a => Discounted a where
  discount :: a -> Double

instance Priced LLMKind where
  inputPrice Haiku = 1
  inputPrice Sonnet = 3
  inputPrice Opus = 15
  outputPrice kind = case kind of
    Haiku -> 5
    Sonnet -> 15
    Opus -> 75

instance Discounted LLMKind where
  discount Opus = 0.8
  discount _ = 0.5

instance Priced Tier where
  inputPrice tier = inputPrice (representative tier)
    where
      representative Fast = Haiku
      representative Balanced = Sonnet
      representative Deep = Opus

-- | The unit a price is quoted in; open so other modules can add rates.
type family Rate a
type instance Rate LLMKind = Double
type instance Rate Tier = Double
type instance Rate Usage = (Double, Double)

-- | What billing a value yields. Closed: the cases are all here.
type family Billed a where
  Billed Usage = Double
  Billed [a] = [Billed a]
  Billed (Maybe a) = Maybe (Billed a)

type PriceTable = Map.Map LLMKind (Rate LLMKind, Rate LLMKind)

priceTable :: PriceTable
priceTable = Map.fromList [ (k, (inputPrice k, outputPrice k)) | k <- [minBound .. maxBound] ]

perMillion :: Double -> Tokens -> Double
perMillion price (Tokens n) = price * fromIntegral n / 1000000

costOf :: LLMKind -> Usage -> Billed Usage
costOf kind (Usage input output) =
  perMillion (inputPrice kind) input + perMillion (outputPrice kind) output

-- | The cheapest model among the candidates, if any.
cheapest :: [LLMKind] -> Maybe LLMKind
cheapest [] = Nothing
cheapest kinds = case sortOn inputPrice kinds of
  (k : _) -> Just k
  [] -> Nothing

billAll :: [(LLMKind, Usage)] -> Billed [Usage]
billAll = reverse . foldl' step []
  where
    step acc (kind, usage) = costOf kind usage : acc
